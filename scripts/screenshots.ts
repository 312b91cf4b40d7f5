// `npm run screenshots`: takes the pictures of the README and docs/ anew, from a real run. It starts `make up`
// (scripts/up.ts) with Jaeger and Prometheus at free ports, places orders through the gateway (approved,
// declined, at a closed restaurant), then photographs with headless Chromium (Debian's `chromium`, driven by
// playwright-core): the dashboard with a declined order's saga open, one approved order's trace, drawn from
// Jaeger's query API as a timeline (trace-view.ts), and Prometheus's own graph of the sagas' outcomes. Writes
// docs/images/ (SCREENSHOTS_DIR to write elsewhere); stops everything it started, whatever happens.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "@ftgo/harness/browser.js";
import { call, placeOrderThroughGateway, signIn } from "@ftgo/harness/gateway-calls.js";
import { type JaegerTrace, tracesOfOrder } from "@ftgo/harness/jaeger-traces.js";
import { launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { queryPrometheus } from "@ftgo/harness/prometheus.js";
import { traceTimelineHtml } from "@ftgo/harness/trace-view.js";
import { waitFor } from "@ftgo/platform/testing";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = resolve(process.env.SCREENSHOTS_DIR || join(ROOT, "docs", "images"));
/** The graph: how each Create Order saga ended, by outcome and reason. */
const GRAPH_QUERY = 'sum by (outcome, reason) (ftgo_saga_outcomes_total{saga="create_order"})';
/** Who orders what: approved, declined card, suspended consumer, closed restaurant; three rounds, spaced out. */
const ORDERS = [
  { consumerId: "c-1001", restaurantId: "r-1" },
  { consumerId: "c-1002", restaurantId: "r-1" },
  { consumerId: "c-1001", restaurantId: "r-1" },
  { consumerId: "c-1003", restaurantId: "r-1" },
  { consumerId: "c-1001", restaurantId: "r-2" },
] as const;

function say(text: string): void {
  process.stderr.write(`screenshots: ${text}\n`);
}

/** The three pictures, as docs/ and the README show them. */
const PICTURES = ["dashboard.png", "order-trace.png", "prometheus-graph.png"] as const;

/** Places an order through the gateway as `consumerId` and waits for its saga to end; its id. */
async function placeOrder(gateway: string, consumerId: string, restaurantId: string): Promise<string> {
  const token = await signIn(gateway, { consumerId });
  const orderId = await placeOrderThroughGateway(gateway, token, restaurantId);
  await waitFor(
    async () => {
      const { body } = await call(`${gateway}/api/v1/orders/${orderId}`, token);
      return ["APPROVED", "REJECTED"].includes(body?.order?.state);
    },
    { timeoutMs: 60_000, intervalMs: 100, message: `order ${orderId} to end its saga` },
  );
  return orderId;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  say("starting make up with Jaeger and Prometheus (free ports)");
  const up: MakeUpRun = await launchMakeUp({ tracing: true, metrics: true, readyTimeoutMs: 180_000 });
  const page = join(tmpdir(), `ftgo-trace-${process.pid}.html`);
  const browser = await launchChromium();
  try {
    const gateway = `http://127.0.0.1:${up.gatewayPort}`;
    const prometheus = up.prometheusUrl as string;
    let approved = "";
    let declined = "";
    for (const [round, orders] of [ORDERS, ORDERS, ORDERS].entries()) {
      for (const { consumerId, restaurantId } of orders) {
        const orderId = await placeOrder(gateway, consumerId, restaurantId);
        if (!approved && consumerId === "c-1001" && restaurantId === "r-1") approved = orderId;
        if (consumerId === "c-1002") declined = orderId;
      }
      // A graph needs points: let Prometheus scrape this round before the next one.
      const expected = (round + 1) * orders.length;
      await waitFor(
        async () => (await queryPrometheus(prometheus, GRAPH_QUERY)).reduce((sum, s) => sum + s.value, 0) === expected,
        { timeoutMs: 60_000, intervalMs: 500, message: `Prometheus to count ${expected} ended sagas` },
      );
    }

    say(`photographing the dashboard with order ${declined}'s saga open`);
    const admin = await browser.newContext({
      viewport: { width: 1400, height: 1100 },
      deviceScaleFactor: 1,
      extraHTTPHeaders: { authorization: `Bearer ${await signIn(gateway, { role: "admin" })}` },
    });
    const dashboard = await admin.newPage();
    await dashboard.goto(`${gateway}/dashboard`);
    await dashboard.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    await dashboard.locator(`[data-region="orders"] [data-order-id="${declined}"] button`).first().click();
    await dashboard
      .locator(`[data-region="timeline"][data-order-id="${declined}"] [data-final-state="REJECTED"]`)
      .waitFor({ timeout: 30_000 });
    // The first screen, as a reader opens it: the topology, the orders, the saga and the start of its trace.
    await dashboard.screenshot({ path: join(OUT, "dashboard.png") });
    await admin.close();

    say(`photographing the trace of order ${approved}`);
    let trace: JaegerTrace | undefined;
    await waitFor(
      async () => {
        [trace] = await tracesOfOrder(up.jaegerQueryUrl as string, approved);
        return Boolean(trace?.spans.some((span) => span.operationName === "saga.step Order.approveOrder"));
      },
      { timeoutMs: 60_000, intervalMs: 250, message: `Jaeger to hold order ${approved}'s approval` },
    );
    writeFileSync(page, traceTimelineHtml(trace as JaegerTrace, `One order, one trace: ${approved}`));
    const tab = await browser.newPage({ viewport: { width: 1400, height: 600 }, deviceScaleFactor: 1 });
    await tab.goto(`file://${page}`);
    await tab.screenshot({ path: join(OUT, "order-trace.png"), fullPage: true });

    say("photographing Prometheus's graph of the sagas' outcomes");
    const graph = `${prometheus}/classic/graph?g0.expr=${encodeURIComponent(GRAPH_QUERY)}&g0.tab=0&g0.range_input=30s`;
    await tab.setViewportSize({ width: 1400, height: 800 });
    await tab.goto(graph);
    await tab.waitForSelector(".graph_area svg path", { timeout: 30_000 });
    await tab.screenshot({ path: join(OUT, "prometheus-graph.png"), fullPage: true });
    say(`wrote ${PICTURES.map((name) => join(OUT, name)).join(", ")}`);
  } finally {
    await browser.close();
    rmSync(page, { force: true });
    await up.interrupt(60_000).catch(() => undefined);
    up.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
