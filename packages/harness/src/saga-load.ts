// Load for the chaos tests and the saga benchmark: many orders along the seed's four Create Order paths,
// a bounded number in flight, and a deadline-bound wait for every participant to settle.
import { Code, ConnectError } from "@connectrpc/connect";
import type { SagaMode } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import type { MeshClients } from "./mesh-clients.js";
import { isSettled, type RecordedSaga, readSagas, type SagaDatabases } from "./saga-audit.js";
import { placeOrderOverGrpc, sagaStates } from "./saga-over-grpc.js";

/** One way through the Create Order saga with the seed data, and where it must end. */
export interface SagaPath {
  readonly name: string;
  readonly consumerId: string;
  readonly restaurantId: string;
  readonly expected: {
    readonly order: string;
    readonly reason: string;
    readonly ticket: string;
    readonly authorization: string;
    /** Rows of kind 'charge' in the card ledger (approved or declined). */
    readonly charges: number;
  };
}

/** The seed's four paths (README): approved, card declined, consumer suspended, restaurant closed. */
export const SAGA_PATHS: readonly SagaPath[] = [
  {
    name: "approved",
    consumerId: "c-1001",
    restaurantId: "r-1",
    expected: { order: "APPROVED", reason: "", ticket: "AWAITING_ACCEPTANCE", authorization: "AUTHORIZED", charges: 1 },
  },
  {
    name: "card declined",
    consumerId: "c-1002",
    restaurantId: "r-1",
    expected: {
      order: "REJECTED",
      reason: "card ending 0002 was declined",
      ticket: "CREATE_REJECTED",
      authorization: "DECLINED",
      charges: 1,
    },
  },
  {
    name: "consumer suspended",
    consumerId: "c-1003",
    restaurantId: "r-1",
    expected: {
      order: "REJECTED",
      reason: "consumer c-1003 is suspended",
      ticket: "CREATE_REJECTED",
      authorization: "CANCELLED",
      charges: 0,
    },
  },
  {
    name: "restaurant closed",
    consumerId: "c-1001",
    restaurantId: "r-2",
    expected: {
      order: "REJECTED",
      reason: "restaurant r-2 is closed",
      ticket: "CREATE_REJECTED",
      authorization: "CANCELLED",
      charges: 0,
    },
  },
];

/**
 * Where a path ends when the saga is orchestrated: one step at a time, so a saga rejected early never
 * asked the later participants (no ticket, no authorization: "none").
 */
const ORCHESTRATED: Readonly<Record<string, Partial<SagaPath["expected"]>>> = {
  "consumer suspended": { ticket: "none", authorization: "none" },
  "restaurant closed": { authorization: "none" },
};

/** Where `path` must end in `mode`. */
export function expectedEnd(path: SagaPath, mode: SagaMode = "choreography"): SagaPath["expected"] {
  return mode === "orchestration" ? { ...path.expected, ...ORCHESTRATED[path.name] } : path.expected;
}

/** The path an order took, from who ordered where. */
export function pathOf(saga: Pick<RecordedSaga, "consumerId" | "restaurantId">): SagaPath {
  const path = SAGA_PATHS.find((p) => p.consumerId === saga.consumerId && p.restaurantId === saga.restaurantId);
  if (!path) throw new Error(`no seed path for ${saga.consumerId} at ${saga.restaurantId}`);
  return path;
}

/** Where each saga ended, compared with where its seed path says it must: one line per difference. */
export function unexpectedOutcomes(sagas: readonly RecordedSaga[], mode: SagaMode = "choreography"): string[] {
  return sagas.flatMap((saga) => {
    const path = pathOf(saga);
    const { name } = path;
    const expected = expectedEnd(path, mode);
    const actual = {
      order: saga.order,
      reason: saga.reason,
      ticket: saga.ticket ?? "none",
      authorization: saga.authorization ?? "none",
      charges: saga.charges,
    };
    return JSON.stringify(actual) === JSON.stringify(expected)
      ? []
      : [`order ${saga.orderId} (${name}) ended as ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}`];
  });
}

export interface PlaceOrdersOptions {
  /** CreateOrder calls in flight. Default 16. */
  readonly concurrency?: number;
  /** The paths, taken in turn. Default all four. */
  readonly paths?: readonly SagaPath[];
  /**
   * Retry a CreateOrder that failed with UNAVAILABLE (the order or kitchen process is down) until this
   * deadline. Default 0: fail at once. When Order itself dies mid-call the order may have been committed
   * anyway, so a retry can create one more order than asked: audit the order database, not this list.
   */
  readonly retryUnavailableForMs?: number;
  /** Called after each order is placed, with how many are placed so far: fault injection hooks in here. */
  readonly onPlaced?: (placed: number) => void | Promise<void>;
}

/** An order that CreateOrder answered for. */
export interface PlacedOrder {
  readonly orderId: string;
  readonly path: SagaPath;
}

/** Places `count` orders along the paths in turn, at most `concurrency` at once; resolves when all are placed. */
export async function placeOrders(
  clients: MeshClients,
  count: number,
  options: PlaceOrdersOptions = {},
): Promise<PlacedOrder[]> {
  const { concurrency = 16, paths = SAGA_PATHS, retryUnavailableForMs = 0, onPlaced } = options;
  const placed: PlacedOrder[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const path = paths[i % paths.length] as SagaPath;
      const order = await withRetry(
        () => placeOrderOverGrpc(clients, path.consumerId, path.restaurantId),
        retryUnavailableForMs,
      );
      placed.push({ orderId: order.orderId, path });
      await onPlaced?.(placed.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return placed;
}

async function withRetry<T>(call: () => Promise<T>, forMs: number): Promise<T> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      const code = ConnectError.from(err).code;
      const retryable = code === Code.Unavailable || code === Code.DeadlineExceeded;
      if (!retryable || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100)); // back off, not a synchronisation
    }
  }
}

export interface SettleOptions {
  readonly timeoutMs?: number;
  /** How the mesh coordinates the saga: what counts as settled. Default choreography. */
  readonly mode?: SagaMode;
  /** Added to the timeout message: the processes' output, say. */
  readonly context?: () => string;
}

/**
 * Waits until every participant has reached a saga end state for each of `orderIds` (default: every
 * order in the order database), polling the databases; resolves with the sagas. On timeout it names the
 * sagas still open and where each one stands.
 */
export async function sagasSettleInDatabases(
  dbs: SagaDatabases,
  orderIds?: readonly string[],
  { timeoutMs = 60_000, mode, context }: SettleOptions = {},
): Promise<RecordedSaga[]> {
  let open: RecordedSaga[] = [];
  return waitFor(
    () => {
      const sagas = readSagas(dbs, orderIds);
      open = sagas.filter((saga) => !isSettled(saga, mode));
      return open.length === 0 && sagas;
    },
    {
      timeoutMs,
      intervalMs: 100,
      message: () =>
        `${open.length} saga(s) did not settle, e.g.\n  ${open
          .slice(0, 10)
          .map((s) => `${s.orderId} ${s.consumerId}@${s.restaurantId}: ${s.order} / ${s.ticket} / ${s.authorization}`)
          .join("\n  ")}${context ? `\n${context()}` : ""}`,
    },
  );
}

/** Where the order database's sequence stands now: `ordersSince(dbs, mark)` later lists the orders created after it. */
export function orderMark(dbs: SagaDatabases): number {
  return dbs.order.prepare<[], { seq: number | null }>("SELECT max(seq) AS seq FROM orders").get()?.seq ?? 0;
}

/** Every order committed after `mark`, including any whose CreateOrder call never got its answer. */
export function ordersSince(dbs: SagaDatabases, mark: number): string[] {
  return dbs.order
    .prepare<[number], { order_id: string }>("SELECT order_id FROM orders WHERE seq > ? ORDER BY seq")
    .all(mark)
    .map((row) => row.order_id);
}

/** The saga's end state as the services answer over gRPC, compared with their databases: one line per difference. */
export async function grpcDisagreements(clients: MeshClients, sagas: readonly RecordedSaga[]): Promise<string[]> {
  const lines = await Promise.all(
    sagas.map(async (saga) => {
      const answered = await sagaStates(clients, saga.orderId);
      const stored = {
        order: saga.order,
        reason: saga.reason,
        ticket: saga.ticket ?? "NONE",
        authorization: saga.authorization ?? "NONE",
      };
      return JSON.stringify(answered) === JSON.stringify(stored)
        ? []
        : [`order ${saga.orderId}: gRPC says ${JSON.stringify(answered)}, the databases ${JSON.stringify(stored)}`];
    }),
  );
  return lines.flat();
}
