import { setTimeout as sleep } from "node:timers/promises";
import type { MeshClients } from "@ftgo/harness/mesh-clients.js";
import { SAGA_PATHS, type SagaPath } from "@ftgo/harness/saga-load.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import type { NatsConnection } from "@nats-io/transport-node";

/** A saga that takes longer than this is stuck, not slow: the run fails rather than hang. */
const SAGA_TIMEOUT_MS = 30_000;

/** What the drivers below place orders on: the platform's mesh, or the bare pipeline. */
export interface SagaTarget {
  /** Subjects on which the end of a saga is announced, with the order id in `Ftgo-Correlation-Id`. */
  readonly endSubjects: readonly string[];
  /** Places the `i`-th order; resolves with its id once the order is committed. */
  place(i: number): Promise<string>;
}

/** The platform's mesh: CreateOrder over gRPC along `paths` in turn; Order announces every outcome. */
export function meshTarget(clients: MeshClients, paths: readonly SagaPath[] = SAGA_PATHS): SagaTarget {
  return {
    endSubjects: ["ftgo.order.event.order_approved.*", "ftgo.order.event.order_rejected.*"],
    async place(i) {
      const path = paths[i % paths.length] as SagaPath;
      return (await placeOrderOverGrpc(clients, path.consumerId, path.restaurantId)).orderId;
    },
  };
}

export interface SagaDriveOptions {
  readonly orders: number;
  /** Sagas in progress at once: each worker waits for its saga to end before placing the next order. */
  readonly inFlight: number;
}

export interface SagaDrive {
  readonly orderIds: readonly string[];
  /** process.hrtime.bigint() when the first order was placed. */
  readonly startedAt: bigint;
  /** Per saga: order placed → its end seen on NATS, in ms. */
  readonly latenciesMs: readonly number[];
}

/**
 * A closed loop over whole sagas: `inFlight` workers each place an order, wait until the target
 * announces the saga's end (a core NATS subscription on the end subjects, which JetStream's stored
 * messages are also delivered to), then place the next. The caller checks separately that every
 * participant got there too.
 */
export async function driveSagas(
  nc: NatsConnection,
  target: SagaTarget,
  { orders, inFlight }: SagaDriveOptions,
): Promise<SagaDrive> {
  const ends = await watchSagaEnds(nc, target.endSubjects);
  const orderIds: string[] = [];
  const latenciesMs: number[] = [];
  let next = 0;
  const startedAt = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < orders; i = next++) {
      const sent = process.hrtime.bigint();
      const orderId = await target.place(i);
      orderIds.push(orderId);
      latenciesMs.push(Number((await ends.endOf(orderId)) - sent) / 1e6);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(inFlight, orders) }, worker));
  } finally {
    ends.close();
  }
  return { orderIds, startedAt, latenciesMs };
}

/**
 * An open loop: one order every 1/`perSecond` s for `seconds`, placed on schedule whether or not the
 * earlier sagas have ended (a steady arrival rate, as clients that do not wait for each other). Resolves
 * once every saga has ended.
 */
export async function driveSteadyRate(
  nc: NatsConnection,
  target: SagaTarget,
  { perSecond, seconds }: { perSecond: number; seconds: number },
): Promise<SagaDrive> {
  const ends = await watchSagaEnds(nc, target.endSubjects);
  const orders = Math.max(1, Math.round(perSecond * seconds));
  const orderIds: string[] = [];
  const latenciesMs: number[] = [];
  const startedAt = process.hrtime.bigint();
  const sagas: Promise<void>[] = [];
  try {
    for (let i = 0; i < orders; i++) {
      const dueNs = startedAt + BigInt(Math.round((i * 1e9) / perSecond));
      const aheadMs = Number(dueNs - process.hrtime.bigint()) / 1e6;
      if (aheadMs > 0) await sleep(aheadMs); // pacing the arrivals, not waiting for anything
      const sent = process.hrtime.bigint();
      sagas.push(
        target.place(i).then(async (orderId) => {
          orderIds.push(orderId);
          latenciesMs.push(Number((await ends.endOf(orderId)) - sent) / 1e6);
        }),
      );
    }
    await Promise.all(sagas);
  } finally {
    ends.close();
  }
  return { orderIds, startedAt, latenciesMs };
}

/** Records when each saga's end is announced; `endOf` resolves with that time (already past, or to come). */
async function watchSagaEnds(nc: NatsConnection, subjects: readonly string[]) {
  const ended = new Map<string, bigint>();
  const waiting = new Map<string, (at: bigint) => void>();
  const subscriptions = subjects.map((subject) =>
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
  return {
    endOf: (orderId: string) =>
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
      }),
    close: () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}
