import type { MeshClients } from "@ftgo/harness/mesh-clients.js";
import { SAGA_PATHS, type SagaPath } from "@ftgo/harness/saga-load.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import type { NatsConnection } from "@nats-io/transport-node";

/** What Order publishes when a Create Order saga is over for it, in any partition. */
const SAGA_ENDS = ["ftgo.order.event.order_approved.*", "ftgo.order.event.order_rejected.*"];
/** A saga that takes longer than this is stuck, not slow: the run fails rather than hang. */
const SAGA_TIMEOUT_MS = 30_000;

export interface SagaDriveOptions {
  readonly orders: number;
  /** Sagas in progress at once: each worker waits for its saga to end before placing the next order. */
  readonly inFlight: number;
  readonly paths?: readonly SagaPath[];
}

export interface SagaDrive {
  readonly orderIds: readonly string[];
  /** process.hrtime.bigint() when the first CreateOrder was sent. */
  readonly startedAt: bigint;
  /** Per saga: CreateOrder sent → Order's OrderApproved/OrderRejected seen on NATS, in ms. */
  readonly latenciesMs: readonly number[];
}

/**
 * A closed loop over whole sagas: `inFlight` workers each place an order along the seed paths in turn,
 * wait until Order announces the saga's outcome (a core NATS subscription on the outcome subjects,
 * which JetStream's stored messages are also delivered to), then place the next. Order's outcome comes
 * from the last step of the saga that Order takes part in; the caller checks separately that every
 * other participant got there too.
 */
export async function driveSagas(
  clients: MeshClients,
  nc: NatsConnection,
  { orders, inFlight, paths = SAGA_PATHS }: SagaDriveOptions,
): Promise<SagaDrive> {
  const ended = new Map<string, bigint>();
  const waiting = new Map<string, (at: bigint) => void>();
  const subscriptions = SAGA_ENDS.map((subject) =>
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const at = process.hrtime.bigint();
        const orderId = msg.headers?.get("Ftgo-Correlation-Id");
        if (!orderId || ended.has(orderId)) return;
        ended.set(orderId, at);
        waiting.get(orderId)?.(at);
      },
    }),
  );
  await nc.flush(); // the subscriptions are in place before the first order
  const sagaEnd = (orderId: string) =>
    new Promise<bigint>((resolve, reject) => {
      const already = ended.get(orderId);
      if (already !== undefined) return resolve(already);
      const timer = setTimeout(
        () => reject(new Error(`saga of order ${orderId} did not end within ${SAGA_TIMEOUT_MS} ms`)),
        SAGA_TIMEOUT_MS,
      );
      waiting.set(orderId, (at) => {
        clearTimeout(timer);
        waiting.delete(orderId);
        resolve(at);
      });
    });

  const orderIds: string[] = [];
  const latenciesMs: number[] = [];
  let next = 0;
  const startedAt = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < orders; i = next++) {
      const path = paths[i % paths.length] as SagaPath;
      const sent = process.hrtime.bigint();
      const { orderId } = await placeOrderOverGrpc(clients, path.consumerId, path.restaurantId);
      orderIds.push(orderId);
      const end = await sagaEnd(orderId);
      latenciesMs.push(Number(end - sent) / 1e6);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(inFlight, orders) }, worker));
  } finally {
    for (const subscription of subscriptions) subscription.unsubscribe();
  }
  return { orderIds, startedAt, latenciesMs };
}
