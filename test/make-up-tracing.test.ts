// `make up` with Jaeger built (setup builds it): scripts/up.ts starts Jaeger, every process exports its spans
// there, and one order placed through the gateway is one trace across the gateway and every participant, read
// back from Jaeger's own query API: parent and child across gRPC and across NATS, and a declined card's
// compensations as spans of their own. `npm run trace` draws the same trace. Ctrl-C stops Jaeger with the rest.
import { artifactPath, launchChromium } from "@ftgo/harness/browser.js";
import { runShell, withPorts } from "@ftgo/harness/docs-shell.js";
import { call } from "@ftgo/harness/gateway-calls.js";
import { detailsWhenSettled, placeOrderThroughGateway, signIn } from "@ftgo/harness/gateway-mesh.js";
import {
  type JaegerSpan,
  type JaegerTrace,
  jaegerServices,
  parentIdOf,
  serviceOf,
  tagOf,
  tracesOfOrder,
} from "@ftgo/harness/jaeger-traces.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

/** The processes an approved order goes through. */
const PARTICIPANTS = ["gateway", "order", "consumer", "kitchen", "accounting", "loyalty"];

let up: MakeUpRun;
let gateway: string;

beforeAll(async () => {
  up = await launchMakeUp({ tracing: true, readyTimeoutMs: PROGRESS_CAP_MS });
  gateway = `http://127.0.0.1:${up.gatewayPort}`;
}, PROGRESS_CAP_MS + 30_000);

afterAll(() => up?.dispose());

/** The order's one trace, once Jaeger has spans of `services` in it (each process exports in batches). */
async function traceOf(orderId: string, services: readonly string[]): Promise<JaegerTrace> {
  let found: JaegerTrace[] = [];
  await waitFor(
    async () => {
      found = await tracesOfOrder(up.jaegerQueryUrl as string, orderId);
      const seen = new Set(found.flatMap((trace) => trace.spans.map((span) => serviceOf(trace, span))));
      return services.every((service) => seen.has(service));
    },
    { timeoutMs: 60_000, intervalMs: 250, message: `Jaeger to hold spans of ${services.join(", ")} for ${orderId}` },
  );
  expect(found.map((trace) => trace.traceID)).toHaveLength(1); // one order, one trace
  return found[0] as JaegerTrace;
}

function spans(trace: JaegerTrace, service: string, name: string): JaegerSpan[] {
  return trace.spans.filter((span) => serviceOf(trace, span) === service && span.operationName === name);
}

function one(trace: JaegerTrace, service: string, name: string, kind?: string): JaegerSpan {
  const found = spans(trace, service, name).filter((span) => !kind || tagOf(span, "span.kind") === kind);
  expect(found.map((span) => `${service} ${span.operationName}`)).toEqual([`${service} ${name}`]);
  return found[0] as JaegerSpan;
}

describe("make up with Jaeger", () => {
  it("starts Jaeger and gives its query API in the ready table", async () => {
    expect(up.jaegerPids()).toHaveLength(1);
    expect(up.output()).toContain(`starting Jaeger v1.75.0`);
    expect(up.output()).toMatch(new RegExp(`traces\\s+${up.jaegerQueryUrl}/api/traces\\?service=order`));
    expect((await fetch(`${up.jaegerQueryUrl}/api/services`)).status).toBe(200);
  });

  let approved: string;

  it("makes one approved order one trace: the gateway, then gRPC, then NATS, through every participant", async () => {
    // Placed with curl, as the gateway page's walk-through places it: a token, then the order.
    const walkThrough = shBlock("docs/gateway.md", "/api/v1/auth/token");
    const [signInLine, orderLine] = commandsOf(walkThrough).map((command) => command.line);
    const curl = await runShell(
      `${signInLine}\n${orderLine}\necho "$TOKEN $ORDER"`.replaceAll("127.0.0.1:8080", `127.0.0.1:${up.gatewayPort}`),
      { timeoutMs: 30_000 },
    );
    expect(curl.code, curl.stderr).toBe(0);
    const [token = "", orderId = ""] = curl.stdout.trim().split(" ");
    approved = orderId;
    expect(approved).toMatch(/^[0-9a-f-]{36}$/);
    expect((await detailsWhenSettled(gateway, token, approved)).order.state).toBe("APPROVED");
    const trace = await traceOf(approved, PARTICIPANTS);
    expect(await jaegerServices(up.jaegerQueryUrl as string)).toEqual(expect.arrayContaining(PARTICIPANTS));

    // HTTP in, and the trace's root.
    const post = one(trace, "gateway", "POST /api/v1/orders");
    expect(parentIdOf(post)).toBeUndefined();
    expect(tagOf(post, "http.response.status_code")).toBe(202);
    // gRPC: the gateway's client span, Order's server span its child, in another process.
    const call = one(trace, "gateway", "ftgo.order.v1.OrderService/CreateOrder", "client");
    const served = one(trace, "order", "ftgo.order.v1.OrderService/CreateOrder", "server");
    expect(parentIdOf(call)).toBe(post.spanID);
    expect(parentIdOf(served)).toBe(call.spanID);
    // NATS: Order's relay publishes OrderCreated in the trace of the call that wrote it; each participant
    // that reads it processes it as a child of that publish.
    const published = one(trace, "order", "publish ftgo.order.event.order_created");
    expect(tagOf(published, "messaging.system")).toBe("nats");
    for (const participant of ["consumer", "kitchen", "accounting"]) {
      const processed = one(trace, participant, "process ftgo.order.event.order_created");
      expect(parentIdOf(processed), participant).toBe(published.spanID);
    }
    // The saga's last step: Order approves, on Accounting's CreditCardAuthorized.
    const authorized = one(trace, "order", "process ftgo.accounting.event.credit_card_authorized");
    expect(tagOf(authorized, "otel.status_code")).toBeUndefined();
    // And the Go service (its own OpenTelemetry SDK) continues the same trace: it processes OrderApproved as a
    // child of Order's publish, and its relay publishes PointsEarned as a child of that.
    const approvedEvent = one(trace, "order", "publish ftgo.order.event.order_approved");
    const earned = one(trace, "loyalty", "process ftgo.order.event.order_approved");
    expect(parentIdOf(earned)).toBe(approvedEvent.spanID);
    expect(parentIdOf(one(trace, "loyalty", "publish ftgo.loyalty.event.points_earned"))).toBe(earned.spanID);
  });

  it("shows the composed order view's legs as parallel children of its request", async () => {
    const operation = encodeURIComponent("GET /api/v1/orders/:orderId");
    const url = `${up.jaegerQueryUrl}/api/traces?service=gateway&operation=${operation}&limit=50&lookback=1h`;
    const composed = async () => {
      const body = (await (await fetch(url)).json()) as { data: JaegerTrace[] | null };
      // The view of the approved order above, as detailsWhenSettled last fetched it.
      return (body.data ?? []).find((trace) =>
        trace.spans.some((span) => tagOf(span, "url.path") === `/api/v1/orders/${approved}`),
      );
    };
    let view: JaegerTrace | undefined;
    await waitFor(
      async () => {
        view = await composed();
        return view !== undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: "Jaeger to hold a composed view of the order" },
    );
    if (!view) throw new Error("unreachable: waitFor resolved without a view");
    const root = one(view, "gateway", "GET /api/v1/orders/:orderId");
    const legs = view.spans.filter((span) => parentIdOf(span) === root.spanID && tagOf(span, "span.kind") === "client");
    expect(legs.map((span) => span.operationName).sort()).toEqual([
      "ftgo.accounting.v1.AccountingService/GetAuthorization",
      "ftgo.delivery.v1.DeliveryService/GetDelivery",
      "ftgo.kitchen.v1.KitchenService/GetTicket",
      "ftgo.loyalty.v1.LoyaltyService/GetOrderPoints",
      "ftgo.order.v1.OrderService/GetOrder",
    ]);
    // In parallel: every leg starts before the first one ends.
    const firstEnd = Math.min(...legs.map((span) => span.startTime + span.duration));
    for (const leg of legs) expect(leg.startTime, leg.operationName).toBeLessThanOrEqual(firstEnd);
  });

  it("shows a declined card's compensations as their own spans", async () => {
    const token = await signIn(gateway, { consumerId: "c-1002" });
    const orderId = await placeOrderThroughGateway(gateway, token, "r-1");
    expect((await detailsWhenSettled(gateway, token, orderId)).order.state).toBe("REJECTED");
    const trace = await traceOf(orderId, PARTICIPANTS);
    // Accounting's step 4 declines, and says why; its event goes out over NATS.
    const declined = spans(trace, "accounting", "saga.step Accounting.authorizeCard").filter(
      (span) => tagOf(span, "saga.outcome") === "CreditCardAuthorizationFailed",
    );
    expect(declined.map((span) => tagOf(span, "saga.reason"))).toEqual(["card ending 0002 was declined"]);
    one(trace, "accounting", "publish ftgo.accounting.event.credit_card_authorization_failed");
    // Kitchen and Order each compensate, in a span of its own under the processing of that event.
    for (const [participant, compensation, outcome] of [
      ["kitchen", "Kitchen.rejectTicket", "TicketRejected"],
      ["order", "Order.rejectOrder", "OrderRejected"],
    ] as const) {
      const processed = one(trace, participant, "process ftgo.accounting.event.credit_card_authorization_failed");
      const undone = one(trace, participant, `saga.compensation ${compensation}`);
      expect(parentIdOf(undone)).toBe(processed.spanID);
      expect(tagOf(undone, "saga.outcome")).toBe(outcome);
      expect(tagOf(undone, "saga.reason")).toBe("card ending 0002 was declined");
    }
  });

  it("draws the order's trace with npm run trace", async () => {
    const run = await runShell(`npm run --silent trace -- ${approved}`, {
      timeoutMs: 60_000,
      env: { DATA_DIR: up.dataDir, JAEGER_QUERY_URL: up.jaegerQueryUrl as string },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^trace [0-9a-f]{32} \(\d+ spans, Jaeger at /m);
    // The tree: the gateway's request at the root, Order's server span two levels below it.
    expect(run.stdout).toMatch(/^gateway {2}POST \/api\/v1\/orders {2}[\d.]+ ms {2}HTTP 202$/m);
    expect(run.stdout).toMatch(/^ {4}order {2}ftgo\.order\.v1\.OrderService\/CreateOrder {2}[\d.]+ ms$/m);
    for (const participant of ["consumer", "kitchen", "accounting"]) {
      expect(run.stdout).toMatch(new RegExp(`^ +${participant} {2}process ftgo\\.order\\.event\\.order_created `, "m"));
    }
    // And each saga step with what it decided.
    expect(run.stdout).toMatch(/^ +order {2}saga\.step Order\.approveOrder {2}[\d.]+ ms {2}→ OrderApproved$/m);
  });

  it("draws the order's trace on the dashboard, from Jaeger's query API, in Chromium", async () => {
    const admin = await signIn(gateway, { role: "admin" });
    const { status, body } = await call(`${gateway}/dashboard/api/orders/${approved}/trace`, admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({ source: up.jaegerQueryUrl, note: "" });
    expect(body.traces).toHaveLength(1);
    const spans: { spanId: string; parentSpanId: string; depth: number; service: string; name: string }[] =
      body.traces[0].spans;
    expect([...new Set(spans.map((span) => span.service))]).toEqual(expect.arrayContaining(PARTICIPANTS));
    // Depth first: the gateway's request is the root, and every span comes after its parent, one level deeper.
    expect(spans[0]).toMatchObject({ service: "gateway", name: "POST /api/v1/orders", depth: 0, parentSpanId: "" });
    const position = new Map(spans.map((span, i) => [span.spanId, i]));
    for (const [i, span] of spans.entries()) {
      if (i === 0) continue;
      const parent = spans[position.get(span.parentSpanId) ?? -1];
      expect(position.get(span.parentSpanId), span.name).toBeLessThan(i);
      expect(span.depth).toBe((parent?.depth ?? -1) + 1);
    }

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ extraHTTPHeaders: { authorization: `Bearer ${admin}` } });
      await page.goto(`${gateway}/dashboard`);
      await page.locator(`[data-region="orders"] [data-order-id="${approved}"] button`).first().click();
      const drawn = page.locator(`[data-region="trace"][data-order-id="${approved}"] [data-span]`);
      await waitFor(async () => (await drawn.count()) === spans.length, {
        timeoutMs: 30_000,
        message: `the page to draw the ${spans.length} spans of the order's trace`,
      });
      const services = await drawn.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-service")));
      expect(services).toEqual(spans.map((span) => span.service));
      await page.screenshot({ path: artifactPath("tracing", "dashboard-trace.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("shows a refused request as a span with its reason", async () => {
    const refused = await fetch(`${gateway}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01` },
      body: JSON.stringify({ restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] }),
    });
    expect(refused.status).toBe(401);
    // The caller sent a trace context: the gateway's span continues the caller's trace.
    let post: JaegerSpan | undefined;
    await waitFor(
      async () => {
        const answer = await fetch(`${up.jaegerQueryUrl}/api/traces/${"ab".repeat(16)}`);
        const body = answer.ok ? ((await answer.json()) as { data: JaegerTrace[] }) : { data: [] };
        post = body.data[0]?.spans.find((span) => span.operationName === "POST /api/v1/orders");
        return post !== undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: "Jaeger to hold the refused request's span" },
    );
    expect(post && parentIdOf(post)).toBe("cd".repeat(8));
    expect(post && tagOf(post, "http.response.status_code")).toBe(401);
    expect(post && tagOf(post, "ftgo.rejection")).toMatch(/^401: .*token/i);
  });

  it("runs the observability page's block: an order over gRPC, its trace drawn, Jaeger's services", async () => {
    const claim = claimsOf("test/make-up-tracing.test.ts").find((c) => c.page === "docs/observability.md");
    const commands = commandsOf(shBlock(claim?.page ?? "", claim?.marker ?? ""));
    expect(commands.map((command) => command.line.split(" ")[0])).toEqual(["grpcurl", "npm", "curl"]);
    const jaegerHost = new URL(up.jaegerQueryUrl as string).host;
    const local = (line: string) => withPorts(line, up.ports).replaceAll("127.0.0.1:16686", jaegerHost);
    const run = (line: string) =>
      runShell(local(line), {
        timeoutMs: 60_000,
        env: { DATA_DIR: up.dataDir, JAEGER_QUERY_URL: up.jaegerQueryUrl as string },
      });

    const created = await run(commands[0]?.line ?? "");
    expect(created.code, created.stderr).toBe(0);
    const orderId = /"orderId": "([^"]+)"/.exec(created.stdout)?.[1] ?? "";
    expect(orderId).not.toBe("");
    await traceOf(orderId, ["order", "consumer", "kitchen", "accounting"]);
    await waitFor(
      async () => {
        const trace = await traceOf(orderId, ["order"]);
        return spans(trace, "order", "saga.step Order.approveOrder").length === 1;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: "the order's approval to reach Jaeger" },
    );

    const drawn = await run((commands[1]?.line ?? "").replace(/<the orderId[^>]*>/, orderId));
    expect(drawn.code, drawn.stderr).toBe(0);
    // No gateway in this one: Order's server span is the root, as the page shows.
    expect(drawn.stdout).toMatch(/^order {2}ftgo\.order\.v1\.OrderService\/CreateOrder {2}[\d.]+ ms$/m);
    expect(drawn.stdout).toMatch(/^ {6}kitchen {2}saga\.step Kitchen\.createTicket {2}[\d.]+ ms {2}→ TicketCreated$/m);
    expect(drawn.stdout).toMatch(/^ +order {2}saga\.step Order\.approveOrder {2}[\d.]+ ms {2}→ OrderApproved$/m);

    const services = await run(commands[2]?.line ?? "");
    expect(services.code, services.stderr).toBe(0);
    expect((JSON.parse(services.stdout) as { data: string[] }).data).toEqual(expect.arrayContaining(PARTICIPANTS));
  });

  it("stops Jaeger with everything else on Ctrl-C", async () => {
    const jaeger = up.jaegerPids();
    expect(await up.interrupt(60_000)).toBe(0);
    for (const pid of jaeger) expect(alive(pid), `jaeger ${pid}`).toBe(false);
  });
});
