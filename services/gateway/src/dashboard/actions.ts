// What the dashboard's buttons do, each through the mesh's own APIs: place an order of a scenario (Order
// Service, as the seed data makes each saga path happen), run a short bounded burst of orders, set and
// clear faults on every instance of a service (AdminService), replay a dead letter.
import { create } from "@bufbuild/protobuf";
import { FaultSchema } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { type Order, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import type { Logger, ServiceInstance } from "@ftgo/platform";
import type { Backends } from "../clients.js";
import type { GatewayDeps } from "../context.js";
import { GatewayError, invalidArgument } from "../errors.js";
import type { AdminClients } from "./admin-clients.js";
import type { FaultRequest, LoadView, OrderScenario } from "./view.js";

/** The seed data behind each scenario (each service's src/seed.ts): who orders what, where. */
const SCENARIOS: Readonly<
  Record<OrderScenario, { consumerId: string; restaurantId: string; items: [string, number][] }>
> = {
  happy: {
    consumerId: "c-1001",
    restaurantId: "r-1",
    items: [
      ["m-1", 2],
      ["m-3", 1],
    ],
  },
  declined: { consumerId: "c-1002", restaurantId: "r-1", items: [["m-2", 1]] }, // card ending 0002 always declines
  suspended: { consumerId: "c-1003", restaurantId: "r-1", items: [["m-2", 1]] }, // Chi Le is suspended
  "closed-restaurant": { consumerId: "c-1001", restaurantId: "r-2", items: [["m-10", 1]] }, // r-2 is closed
  cancel: { consumerId: "c-1001", restaurantId: "r-1", items: [["m-1", 1]] }, // then cancelled once approved
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as OrderScenario[];

/** The most orders one load burst may place. */
export const LOAD_MAX = 100;
/** Orders of a burst in flight at once. */
const LOAD_CONCURRENCY = 4;
/** How long the cancel scenario waits for its order's approval before it gives up cancelling. */
const CANCEL_WAIT_MS = 30_000;

export function scenarioOf(body: unknown): OrderScenario {
  const scenario = objectOf(body).scenario;
  if (typeof scenario !== "string" || !(scenario in SCENARIOS)) {
    throw invalidArgument(`scenario must be one of ${SCENARIO_NAMES.join(", ")}`);
  }
  return scenario as OrderScenario;
}

/** Places one order of the scenario; under "cancel", cancels it once its saga approved it (in the background). */
export async function placeScenario(
  backends: Pick<Backends, "order">,
  scenario: OrderScenario,
  log: Logger,
): Promise<Order> {
  const { consumerId, restaurantId, items } = SCENARIOS[scenario];
  const { order } = await backends.order.createOrder({
    consumerId,
    restaurantId,
    lineItems: items.map(([menuItemId, quantity]) => ({ menuItemId, quantity })),
  });
  if (!order) throw new Error("Order Service answered CreateOrder without the order");
  if (scenario === "cancel") {
    cancelOnceApproved(backends, order.orderId).catch((err: unknown) =>
      log.warn({ err, orderId: order.orderId }, "dashboard: the cancel scenario could not cancel its order"),
    );
  }
  return order;
}

async function cancelOnceApproved(backends: Pick<Backends, "order">, orderId: string): Promise<void> {
  const signal = AbortSignal.timeout(CANCEL_WAIT_MS);
  for await (const { order } of backends.order.watchOrder({ orderId }, { signal, timeoutMs: CANCEL_WAIT_MS })) {
    if (order?.state === OrderState.APPROVED) {
      await backends.order.cancelOrder({ orderId });
      return;
    }
    if (order && order.state !== OrderState.APPROVAL_PENDING) return; // rejected: nothing to cancel
  }
}

/** One bounded burst of happy orders at a time: it places `requested` orders and stops by itself. */
export interface LoadRunner {
  start(requested: number, onOrder: (order: Order) => void): LoadView;
  view(): LoadView | null;
}

export function createLoadRunner(backends: Pick<Backends, "order">, log: Logger): LoadRunner {
  let current: { requested: number; placed: number; failed: number; running: boolean } | null = null;
  const view = (): LoadView | null => (current ? { ...current } : null);
  return {
    start(requested, onOrder) {
      if (current?.running)
        throw new GatewayError(409, "ALREADY_RUNNING", "a load burst is running: wait for it to end");
      const burst = { requested, placed: 0, failed: 0, running: true };
      current = burst;
      let next = 0;
      const worker = async () => {
        while (next < requested) {
          next++;
          try {
            onOrder(await placeScenario(backends, "happy", log));
            burst.placed++;
          } catch {
            burst.failed++; // a failed order is what a burst against a broken mesh shows: counted, not thrown
          }
        }
      };
      void Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, requested) }, worker)).finally(() => {
        burst.running = false;
        log.info({ placed: burst.placed, failed: burst.failed }, "dashboard: load burst ended");
      });
      return view() as LoadView;
    },
    view,
  };
}

export function loadSizeOf(body: unknown): number {
  const orders = objectOf(body).orders;
  if (typeof orders !== "number" || !Number.isInteger(orders) || orders < 1 || orders > LOAD_MAX) {
    throw invalidArgument(`orders must be a whole number from 1 to ${LOAD_MAX}`);
  }
  return orders;
}

/** Sets the fault on every instance of the service; the answer says on how many. */
export async function setFault(
  deps: GatewayDeps,
  clients: AdminClients,
  backends: readonly string[],
  body: unknown,
): Promise<{ instances: number }> {
  const request = faultRequestOf(body, backends);
  const fault = create(FaultSchema, {
    method: request.method,
    latencyMs: request.latencyMs ?? 0,
    statusCode: request.statusCode ?? 0,
    hang: request.hang ?? false,
    ...(request.probability !== undefined && { probability: request.probability }),
  });
  const instances = await instancesOf(deps, request.service);
  if (instances.length === 0)
    throw new GatewayError(503, "UNAVAILABLE", `no instance of ${request.service} is registered`);
  // AdminService checks the fault itself (a method it lacks, a fault that does nothing): its
  // INVALID_ARGUMENT reaches the page as a 400 with its message.
  await Promise.all(instances.map((instance) => clients.of(instance).admin.setFault({ fault })));
  return { instances: instances.length };
}

/** Clears one method's fault, or every fault, on every instance of the service. */
export async function clearFaults(
  deps: GatewayDeps,
  clients: AdminClients,
  backends: readonly string[],
  body: unknown,
): Promise<{ cleared: number }> {
  const { service, method } = objectOf(body);
  const name = serviceOf(service, backends);
  if (method !== undefined && typeof method !== "string") throw invalidArgument("method must be a string");
  const instances = await instancesOf(deps, name);
  const answers = await Promise.all(
    instances.map((instance) => clients.of(instance).admin.clearFaults({ method: method ?? "" })),
  );
  return { cleared: answers.reduce((sum, answer) => sum + answer.clearedCount, 0) };
}

/** Replays a dead letter of the service, through one of its instances. */
export async function replayDeadLetter(
  deps: GatewayDeps,
  clients: AdminClients,
  backends: readonly string[],
  body: unknown,
): Promise<{ originalSubject: string }> {
  const { service, seq } = objectOf(body);
  const name = serviceOf(service, backends);
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) {
    throw invalidArgument("seq must be a dead letter's sequence, a whole number from 1");
  }
  const [instance] = await instancesOf(deps, name);
  if (!instance) throw new GatewayError(503, "UNAVAILABLE", `no instance of ${name} is registered`);
  const { originalSubject } = await clients.of(instance).admin.replayDeadLetter({ seq: BigInt(seq) });
  return { originalSubject };
}

function faultRequestOf(body: unknown, backends: readonly string[]): FaultRequest {
  const { service, method, latencyMs, statusCode, probability, hang } = objectOf(body);
  const name = serviceOf(service, backends);
  if (typeof method !== "string" || method === "") throw invalidArgument('method must be a gRPC path or "*"');
  const whole = (value: unknown, field: string, max: number) => {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
      throw invalidArgument(`${field} must be a whole number from 0 to ${max}`);
    }
    return value;
  };
  if (probability !== undefined && (typeof probability !== "number" || !(probability >= 0 && probability <= 1))) {
    throw invalidArgument("probability must be a number from 0 to 1");
  }
  if (hang !== undefined && typeof hang !== "boolean") throw invalidArgument("hang must be true or false");
  return {
    service: name,
    method,
    latencyMs: whole(latencyMs, "latencyMs", 600_000),
    statusCode: whole(statusCode, "statusCode", 16),
    probability: probability as number | undefined,
    hang: hang as boolean | undefined,
  };
}

function serviceOf(service: unknown, backends: readonly string[]): string {
  if (typeof service !== "string" || !backends.includes(service)) {
    throw invalidArgument(`service must be one of ${backends.join(", ")}`);
  }
  return service;
}

async function instancesOf(deps: GatewayDeps, service: string): Promise<ServiceInstance[]> {
  return deps.registry.lookup(service);
}

function objectOf(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidArgument("the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}
