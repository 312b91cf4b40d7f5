// Issue 17 §2: a gateway SIGKILLed in the middle of a burst of order posts had created orders no client was told
// about, and a client that retried after the connection reset ordered twice. With v2's Idempotency-Key a
// client retries safely: here 200 clients post at once through a gateway that is its own process, which is
// SIGKILLed three times in the burst (each after a number of answers) and started again on the same port; each
// client whose post got no answer (reset, refused) sends it again with the same key until it is answered. Then
// every key has exactly one order, every order has a key that a client holds, every one of them is approved, and
// some of those answers are orders that a post whose answer the kill lost had created. So that every kill loses
// such an answer, rather than when the timing happens to fall so, the gateway is frozen first (SIGSTOP) and killed
// only once Order holds an order whose post is still waiting for its answer.
import { randomUUID } from "node:crypto";
import { type Body, call, signIn } from "@ftgo/harness/gateway-calls.js";
import { type GatewayProcess, startGatewayBeside } from "@ftgo/harness/gateway-process.js";
import { type OrderV2Client, orderV2Client } from "@ftgo/harness/order-v2-client.js";
import { type ProcessMesh, startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ORDERS = 200;
const CONCURRENCY = 20;
/** The gateway is SIGKILLed (and started again) once this many posts have been answered: inside the burst. */
const KILLS_AFTER = [50, 100, 150];
/**
 * How long a frozen gateway waits for Order to hold an order of a post in flight before it is killed anyway. With
 * CONCURRENCY posts in flight, some have reached Order when the gateway freezes, and Order, running on, creates
 * their orders at once; the bound only keeps a kill that catches none from stalling the burst.
 */
const CAUGHT_TIMEOUT_MS = 15_000;
/** A client gives up after this many attempts at one key: one lost to each kill is expected, a few more tolerated. */
const MAX_ATTEMPTS = 6;
/** The answers a client retries besides no answer at all: the gateway's Unavailable, deadline and rate limit. */
const RETRYABLE = new Set([429, 503, 504]);
const CONSUMER = "c-1001";
const ORDER = {
  restaurantId: "r-1",
  lineItems: [{ menuItemId: "m-1", quantity: 1 }],
  delivery: { address: { street1: "1 Main St", city: "Oakland", postalCode: "94611" } },
};

/** What one client ended with: the answer to its last attempt, why each earlier one was retried, and when. */
interface Outcome {
  readonly key: string;
  readonly status: number;
  readonly orderId: string | undefined;
  readonly retried: readonly string[];
  /** When it first posted again (ms since the epoch); NaN if it never had to. */
  readonly firstRetryAt: number;
}

let mesh: ProcessMesh;
let gateway: GatewayProcess;
let order: OrderV2Client;
let token: string;
beforeAll(async () => {
  mesh = await startProcessMesh();
  order = orderV2Client(mesh.order.address);
  gateway = await startGatewayBeside(mesh, {
    // The burst is one consumer's: neither the edge's nor the caller's bucket may be what answers it.
    EDGE_RATE_LIMIT_RPS: "10000",
    EDGE_RATE_LIMIT_BURST: "10000",
    RATE_LIMIT_RPS: "10000",
    RATE_LIMIT_BURST: "10000",
  });
  token = await signIn(gateway.url, { consumerId: CONSUMER });
}, 240_000);
afterAll(async () => {
  order?.close();
  await gateway?.stop();
  await mesh?.stop();
});

describe("retrying order posts across a gateway crash", () => {
  it("answers each of 200 keys with one order of its own, creates no other, and every order is approved", async () => {
    const keys = Array.from({ length: ORDERS }, () => randomUUID());
    let answered = 0;
    /** The keys whose post is waiting for its answer right now. */
    const inFlight = new Set<string>();
    let kills = 0;
    /** The gateway's latest outage: a kill and its restart; settled once the restarted gateway is ready. */
    let outage: Promise<void> | undefined;
    let down = false;
    /** Freezes the gateway and waits until Order created an order that the gateway will never answer for. */
    const freezeWithAnOrderUnanswered = async () => {
      await gateway.kill("SIGSTOP");
      await waitFor(
        async () => (await ordersOf(order, CONSUMER)).some((created) => inFlight.has(created.idempotencyKey)),
        { timeoutMs: CAUGHT_TIMEOUT_MS, intervalMs: 20, message: "an order created for a post in flight" },
      ).catch(() => {}); // a kill that caught none: the assertion on all of them below tells
    };
    const killAndRestart = async () => {
      try {
        await freezeWithAnOrderUnanswered();
        await gateway.kill("SIGKILL");
        await gateway.restart();
      } finally {
        down = false;
      }
    };
    const onAnswered = () => {
      answered++;
      if (down || answered < (KILLS_AFTER[kills] ?? Number.POSITIVE_INFINITY)) return;
      [kills, down] = [kills + 1, true];
      outage = killAndRestart();
    };

    /** One client: posts its order and, while it gets no answer, posts it again with the same key. */
    const place = async (key: string): Promise<Outcome> => {
      const retried: string[] = [];
      let firstRetryAt = Number.NaN;
      for (;;) {
        if (retried.length === 1) firstRetryAt = Date.now();
        inFlight.add(key);
        const answer = await postOrder(gateway.url, token, key);
        inFlight.delete(key);
        if (answer.status === 202) onAnswered();
        if (!(answer.status === 0 || RETRYABLE.has(answer.status)) || retried.length + 1 >= MAX_ATTEMPTS) {
          return { key, status: answer.status, orderId: answer.body?.orderId, retried, firstRetryAt };
        }
        retried.push(answer.status === 0 ? answer.error : String(answer.status));
        // The client's back-off: until the gateway is back, rather than a guessed time.
        await outage;
      }
    };
    const queue = [...keys];
    const outcomes: Outcome[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) outcomes.push(await place(key));
      }),
    );
    await outage;
    expect(kills, "the gateway was killed in the middle of the burst").toBe(KILLS_AFTER.length);

    // Every client was answered 202 with an order, each its own.
    const unanswered = outcomes.filter((outcome) => outcome.status !== 202 || !outcome.orderId);
    expect(unanswered, gateway.instance.output()).toEqual([]);
    const orderOf = new Map(outcomes.map((outcome) => [outcome.key, outcome.orderId]));
    expect(orderOf.size).toBe(ORDERS);
    expect(new Set(orderOf.values()).size).toBe(ORDERS);
    const retriedKeys = outcomes.filter((outcome) => outcome.retried.length > 0);
    expect(retriedKeys.length, "clients whose post a kill left unanswered").toBeGreaterThan(0);

    // Order holds exactly those orders for the consumer (a fresh mesh: every one of its orders is this test's),
    // each under the key its client holds, and the saga approves every one.
    const listed = await waitFor(
      async () => {
        const orders = await listOrders(gateway.url, token);
        return orders.every((order) => order.state === "APPROVED") && orders;
      },
      { timeoutMs: 120_000, intervalMs: 500, message: () => `every order approved\n${mesh.output()}` },
    );
    expect(listed).toHaveLength(ORDERS);
    expect(new Map(listed.map((order) => [order.idempotencyKey, order.orderId]))).toEqual(orderOf);

    // The answers the kills lost: an order created before its client posted again was created by a post whose
    // answer never came; without the key, the retry would have ordered a second time.
    const createdAt = new Map(listed.map((order) => [order.orderId, Date.parse(order.createTime)]));
    const recovered = retriedKeys.filter(
      ({ orderId = "", firstRetryAt }) => (createdAt.get(orderId) ?? Number.NaN) < firstRetryAt,
    );
    const story =
      `${retriedKeys.length} clients posted again after ${kills} kills (${retriedKeys.flatMap((o) => o.retried).join(", ")}); ` +
      `${recovered.length} of them were answered with the order their unanswered post had created`;
    console.info(story);
    expect(recovered.length, story).toBeGreaterThan(0);
    expect(mesh.crashes()).toEqual([]);
    expect(gateway.instance.crashes).toEqual([]);
  }, 300_000);
});

/** POST /api/v2/orders with `key`; status 0 and the reason when no answer came (the connection reset or refused). */
async function postOrder(
  url: string,
  token: string,
  key: string,
): Promise<{ status: number; body?: Body; error: string }> {
  try {
    const { status, body } = await call(`${url}/api/v2/orders`, token, {
      method: "POST",
      body: ORDER,
      headers: { "idempotency-key": key },
    });
    return { status, body, error: "" };
  } catch (err) {
    const cause = (err as Error).cause as { code?: string } | undefined;
    return { status: 0, error: cause?.code ?? (err as Error).message };
  }
}

/** The consumer's orders, every page of them, from Order itself. */
async function ordersOf(client: OrderV2Client, consumerId: string) {
  const orders = [];
  let pageToken = "";
  do {
    const page = await client.orders.listOrders({ consumerId, pageSize: 100, pageToken });
    orders.push(...page.orders);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return orders;
}

/** The consumer's orders, every page of them, through the gateway. */
async function listOrders(url: string, token: string): Promise<Body[]> {
  const orders: Body[] = [];
  let pageToken = "";
  do {
    const query = pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : "";
    const page = await call(`${url}/api/v2/orders?pageSize=50${query}`, token);
    if (page.status !== 200) throw new Error(`listing orders: ${page.status} ${JSON.stringify(page.body)}`);
    orders.push(...(page.body.orders ?? []));
    pageToken = page.body.nextPageToken ?? "";
  } while (pageToken);
  return orders;
}
