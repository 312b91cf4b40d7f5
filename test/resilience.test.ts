// Client-side discovery, load balancing and the circuit breaker between real processes: Order calls two
// Kitchen processes found in the NATS-KV registry. One is killed with SIGKILL; Order keeps pricing orders
// on the other after at most its breaker threshold of failed calls (plus one trial each time the breaker
// half-opens, and any call already in flight at the kill), and sends traffic back when it returns.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { type ServiceInstance, startService } from "@ftgo/harness/service-instance.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const BREAKER_FAILURES = 5;
const BREAKER_HALF_OPEN_MS = 500;
const GET_MENU = "/ftgo.kitchen.v1.KitchenService/GetMenu";

let nats: NatsServerHandle;
let dataDir: string;
let order: ServiceInstance;
const kitchens: ServiceInstance[] = [];
const transports: GrpcTransport[] = [];
/** CreateOrder calls sent and not yet answered. */
let ordersInFlight = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), "ftgo-resilience-"));
  const common = { dataDir, natsUrl: nats.url, env: { REGISTRY_TTL_MS: "2000" } };
  kitchens.push(await startService({ name: "kitchen", ...common }));
  kitchens.push(await startService({ name: "kitchen", instance: 2, ...common }));
  order = await startService({
    name: "order",
    ...common,
    env: {
      ...common.env,
      // Retries would hide each failed call by moving it to the other Kitchen: off, so that failures show.
      KITCHEN_RETRY_ATTEMPTS: "1",
      KITCHEN_BREAKER_FAILURES: String(BREAKER_FAILURES),
      KITCHEN_BREAKER_HALF_OPEN_MS: String(BREAKER_HALF_OPEN_MS),
    },
  });
}, 600_000); // each start may take up to the harness's readiness cap on a busy machine

afterAll(async () => {
  for (const t of transports) t.close();
  await Promise.allSettled([order, ...kitchens].map((p) => p?.stop()));
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function client<S extends typeof OrderService | typeof AdminService>(service: S, address: string) {
  const transport = createGrpcTransport({ address });
  transports.push(transport);
  return createGrpcClient(service, transport);
}

/** Counts the GetMenu calls a Kitchen serves: a 1 ms latency fault is applied to, and counted on, every call. */
async function countCalls(kitchen: ServiceInstance) {
  await client(AdminService, kitchen.address).setFault({ fault: { method: GET_MENU, latencyMs: 1 } });
}
async function callsServed(kitchen: ServiceInstance): Promise<number> {
  const { faults } = await client(AdminService, kitchen.address).listFaults({});
  return Number(faults.find((f) => f.method === GET_MENU)?.appliedCount ?? 0n);
}

/** Places `n` orders one after another; returns how many had to be priced from the last known menu. */
async function placeOrders(n: number): Promise<number> {
  const orders = client(OrderService, order.address);
  let fallbacks = 0;
  for (let i = 0; i < n; i++) {
    ordersInFlight++;
    const { order: placed } = await orders
      .createOrder({ consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "m-2", quantity: 1 }] })
      .finally(() => ordersInFlight--);
    if (placed?.pricedFromLastKnownMenu) fallbacks++;
  }
  return fallbacks;
}

/**
 * The trial calls Order's breaker for `kitchen` has let through so far: one each time it went half-open,
 * as Order logs it (at warn, which the harness keeps). On a busy machine 30 orders outlast the 500 ms
 * pause more than once before the registry's TTL drops the dead instance, and each trial fails.
 */
function trialCallsTo(kitchen: ServiceInstance): number {
  const halfOpen = new RegExp(`circuit half-open for kitchen@[^"]*:${kitchen.port}"`);
  return order
    .output()
    .split("\n")
    .filter((line) => halfOpen.test(line)).length;
}

describe("Order calling two Kitchen instances", () => {
  it("spreads its calls across both", async () => {
    for (const kitchen of kitchens) await countCalls(kitchen);
    expect(await placeOrders(20)).toBe(0);
    const [first, second] = await Promise.all(kitchens.map(callsServed));
    expect((first ?? 0) + (second ?? 0)).toBe(20);
    expect(first).toBeGreaterThanOrEqual(5);
    expect(second).toBeGreaterThanOrEqual(5);
  });

  it("keeps pricing orders on the survivor after at most the breaker threshold of failures", async () => {
    const [survivor, victim] = kitchens as [ServiceInstance, ServiceInstance];
    const before = await callsServed(survivor);
    const trialsBefore = trialCallsTo(victim);
    // A call already on its way to the victim when it dies fails whatever the breaker says.
    const inFlightAtKill = ordersInFlight;
    await victim.kill("SIGKILL");
    // Each call sent to the dead instance fails (and that order falls back to the last known menu) until
    // its breaker opens; from then on it is skipped without a network call, but for one trial call each
    // time the breaker half-opens.
    const failed = await placeOrders(30);
    expect(failed).toBeGreaterThan(0);
    // Order logs each half-open before its trial call, but its output may reach us just after the answer.
    await vi.waitFor(() => {
      const trials = trialCallsTo(victim) - trialsBefore;
      expect(failed, `${trials} trial call(s), ${inFlightAtKill} in flight at the kill`).toBeLessThanOrEqual(
        BREAKER_FAILURES + trials + inFlightAtKill,
      );
    });
    expect((await callsServed(survivor)) - before).toBe(30 - failed);
    // Once open, the breaker fails nothing but its trials (several, on a busy machine, until the registry's
    // TTL drops the dead instance): no order that is not a trial falls back.
    const trialsSoFar = trialCallsTo(victim);
    const laterFailed = await placeOrders(10);
    await vi.waitFor(() => expect(laterFailed).toBeLessThanOrEqual(trialCallsTo(victim) - trialsSoFar));
  });

  it("sends traffic back to the instance once it returns", async () => {
    const victim = kitchens[1] as ServiceInstance;
    await victim.restart();
    await countCalls(victim);
    await vi.waitFor(
      async () => {
        await placeOrders(4);
        expect(await callsServed(victim), "calls the restarted kitchen served").toBeGreaterThan(0);
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(await callsServed(victim)).toBeGreaterThan(0);
  });

  it("answers UNAVAILABLE when no Kitchen is left and the restaurant's menu was never seen", async () => {
    const orders = client(OrderService, order.address);
    await Promise.all(kitchens.map((k) => k.kill("SIGKILL")));
    const err = await orders
      .createOrder({ consumerId: "c-1001", restaurantId: "r-2", lineItems: [{ menuItemId: "m-10", quantity: 1 }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Unavailable });
  });
});
