// `make up` with Prometheus installed (setup installs it): every process serves /metrics at its own port, up.ts
// starts Prometheus scraping them all (file-based discovery) with the recording rules of prometheus/rules.yml,
// and the series move as the mesh does: a declined card counts a rejected saga with its reason; a Kitchen that
// fails every GetMenu opens Order's breaker for it, which shows as 2; Prometheus answers the docs' questions.
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { queryPrometheus } from "@ftgo/harness/prometheus.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { createGrpcClient, createGrpcTransport, METRICS_PORTS, SERVICE_NAMES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

let up: MakeUpRun;

beforeAll(async () => {
  up = await launchMakeUp({ metrics: true, readyTimeoutMs: PROGRESS_CAP_MS });
}, PROGRESS_CAP_MS + 30_000);

afterAll(() => up?.dispose());

function metricsUrl(name: string): string {
  const url = up.metricsUrls?.[name];
  if (!url) throw new Error(`no /metrics for ${name}`);
  return url;
}

/** The value of one series of `name`'s /metrics, `metric{labels…}` exactly as served; undefined if absent. */
async function series(name: string, metric: string): Promise<number | undefined> {
  const text = await (await fetch(metricsUrl(name))).text();
  const line = text.split("\n").find((l) => l.startsWith(`${metric} `));
  return line === undefined ? undefined : Number(line.slice(metric.length + 1));
}

function clients() {
  const at = (name: (typeof SERVICE_NAMES)[number]) => ({ address: `127.0.0.1:${up.ports[name]}` });
  return meshClients({
    order: at("order"),
    consumer: at("consumer"),
    kitchen: at("kitchen"),
    accounting: at("accounting"),
    delivery: at("delivery"),
  });
}

/** c-1002's card is declined: an order that the saga rejects, waited for. */
async function declineACard(): Promise<void> {
  const grpc = clients();
  try {
    const { orderId } = await placeOrderOverGrpc(grpc, "c-1002");
    await orderReaches(grpc, orderId, new Set([OrderState.REJECTED]), 60_000);
  } finally {
    grpc.close();
  }
}

describe("make up with Prometheus", () => {
  it("serves /metrics from every process, and gives Prometheus in the ready table", async () => {
    expect(Object.keys(up.metricsUrls ?? {}).sort()).toEqual(Object.keys(METRICS_PORTS).sort());
    for (const name of Object.keys(METRICS_PORTS)) {
      const answer = await fetch(metricsUrl(name));
      expect(answer.status, name).toBe(200);
      const text = await answer.text();
      expect(text, name).toMatch(/^process_resident_memory_bytes \S+/m);
      // The Go service's registry (client_golang) lists a labelled metric once it has a value; its outbox's
      // gauges are there from the start. The TypeScript processes share one registry of every metric.
      if (name === "loyalty") expect(text, name).toMatch(/^ftgo_outbox_pending_rows \d+/m);
      else expect(text, name).toContain("# TYPE rpc_server_duration_seconds histogram");
    }
    expect(up.prometheusPids()).toHaveLength(1);
    expect(up.output()).toMatch(new RegExp(`metrics\\s+${up.prometheusUrl}/graph`));
  });

  it("counts a declined card's saga as rejected, with the reason", async () => {
    const metric =
      'ftgo_saga_outcomes_total{saga="create_order",mode="choreography",outcome="rejected",reason="card ending 0002 was declined"}';
    const before = (await series("order", metric)) ?? 0;
    await declineACard();
    expect(await series("order", metric)).toBe(before + 1);
    // Each participant consumed OrderCreated, and Order's relay published it.
    for (const name of ["kitchen", "consumer", "accounting"]) {
      const consumed = await series(name, 'ftgo_messages_consumed_total{channel="ftgo.order.event.order_created"}');
      expect(consumed, name).toBeGreaterThanOrEqual(1);
    }
    expect(await series("order", "ftgo_outbox_publish_lag_seconds_count")).toBeGreaterThanOrEqual(1);
  });

  it("shows Order's breaker for a failing Kitchen as open (2), and counts the retries", {
    timeout: 120_000,
  }, async () => {
    const kitchen = `127.0.0.1:${up.ports.kitchen}`;
    const breaker = `ftgo_breaker_state{target="kitchen",target_instance="${kitchen}"}`;
    expect(await series("order", breaker)).toBe(0);
    const grpc = clients();
    const transport = createGrpcTransport({ address: kitchen });
    const admin = createGrpcClient(AdminService, transport);
    try {
      await admin.setFault({
        fault: { method: "/ftgo.kitchen.v1.KitchenService/GetMenu", statusCode: 14 },
      });
      // Each CreateOrder tries GetMenu three times: the fifth failure in a row opens the breaker.
      for (let i = 0; i < 2; i++) await placeOrderOverGrpc(grpc, "c-1001", "r-1", [{ menuItemId: "m-2", quantity: 1 }]);
      expect(await series("order", breaker)).toBe(2);
      const opened = await series(
        "order",
        `ftgo_breaker_transitions_total{target="kitchen",target_instance="${kitchen}",to="open"}`,
      );
      expect(opened).toBe(1);
      const retried = await series("order", 'ftgo_client_retries_total{target="kitchen",method="GetMenu"}');
      expect(retried).toBeGreaterThanOrEqual(2);

      // Prometheus scrapes it, and its recording rule answers "is a breaker open?".
      const url = up.prometheusUrl as string;
      await waitFor(async () => (await queryPrometheus(url, `ftgo:breaker_open{target="kitchen"} == 1`)).length === 1, {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: "Prometheus to record Order's open breaker for Kitchen",
      });
      // Only Order's: the gateway has a breaker for Kitchen too, but it called nothing failing, so it shows 0.
      const open = await queryPrometheus(url, `ftgo:breaker_open{target="kitchen"} == 1`);
      expect(open.map((s) => s.metric)).toEqual([
        expect.objectContaining({ service: "order", target_instance: kitchen }),
      ]);
    } finally {
      await admin.clearFaults({});
      transport.close();
      grpc.close();
    }
  });

  it("answers the docs' questions through Prometheus's HTTP API", { timeout: 180_000 }, async () => {
    const url = up.prometheusUrl as string;
    // Every process is a target, and up: on a busy machine a scrape can miss once, and the next one counts.
    let targets: Awaited<ReturnType<typeof queryPrometheus>> = [];
    await waitFor(
      async () => {
        targets = await queryPrometheus(url, 'up{job="ftgo"}');
        return targets.length === Object.keys(METRICS_PORTS).length && targets.every((t) => t.value === 1);
      },
      { timeoutMs: 60_000, intervalMs: 500, message: "Prometheus to scrape every process successfully" },
    );
    expect(targets.map((t) => t.metric.service).sort()).toEqual(Object.keys(METRICS_PORTS).sort());
    expect(targets.every((t) => t.value === 1)).toBe(true);
    // What share of orders are rejected, and why. A rate needs the counter seen twice: once Prometheus has
    // scraped the declined card above, one more.
    const declined =
      'ftgo_saga_outcomes_total{service="order",outcome="rejected",reason="card ending 0002 was declined"}';
    await waitFor(async () => (await queryPrometheus(url, declined)).some((s) => s.value >= 1), {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: "Prometheus to scrape Order's count of the declined card",
    });
    await declineACard();
    await waitFor(
      async () =>
        (await queryPrometheus(url, "ftgo:create_order_rejected:rate5m_by_reason")).some(
          (s) => s.metric.reason === "card ending 0002 was declined" && s.value > 0,
        ),
      { timeoutMs: 60_000, intervalMs: 500, message: "Prometheus to record the rejection by reason" },
    );
    const [share] = await queryPrometheus(url, "ftgo:create_order_rejected:ratio_rate5m");
    expect(share?.value).toBeGreaterThan(0);
    expect(share?.value).toBeLessThanOrEqual(1);
    // How far behind is each outbox? Every service with an outbox has a figure.
    const behind = await queryPrometheus(url, "ftgo:outbox_oldest_pending_age_seconds:max");
    expect(behind.map((s) => s.metric.service).sort()).toEqual([...SERVICE_NAMES, "loyalty"].sort());
  });

  it("runs the observability page's metrics block: Order's counts, and Prometheus's answer", async () => {
    const [claim] = claimsOf("test/make-up-metrics.test.ts");
    const commands = commandsOf(shBlock(claim?.page ?? "", claim?.marker ?? ""));
    expect(commands).toHaveLength(2);
    const local = (line: string) =>
      line
        .replaceAll("127.0.0.1:9551", new URL(metricsUrl("order")).host)
        .replaceAll("127.0.0.1:9090", new URL(up.prometheusUrl as string).host);

    const counts = await runShell(local(commands[0]?.line ?? ""), { timeoutMs: 30_000 });
    expect(counts.code, counts.stderr).toBe(0);
    expect(counts.stdout).toMatch(
      /^ftgo_saga_outcomes_total\{saga="create_order",mode="choreography",outcome="rejected",reason="card ending 0002 was declined"\} 2$/m, // the two declined cards above
    );
    const why = await runShell(local(commands[1]?.line ?? ""), { timeoutMs: 30_000 });
    expect(why.code, why.stderr).toBe(0);
    const answer = JSON.parse(why.stdout) as { data: { result: { metric: { reason: string } }[] } };
    expect(answer.data.result.map((r) => r.metric.reason)).toContain("card ending 0002 was declined");
  });

  it("stops Prometheus with everything else on Ctrl-C", async () => {
    const prometheus = up.prometheusPids();
    expect(await up.interrupt(60_000)).toBe(0);
    for (const pid of prometheus) expect(alive(pid), `prometheus ${pid}`).toBe(false);
  });
});
