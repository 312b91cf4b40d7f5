// The judge of the Go Loyalty service's end state, from sources it does not write: the order database says
// which orders were approved and for how much, the FTGO_LOYALTY_EVENTS stream says what was announced, and
// Loyalty's own database (read-only) says what was credited and how often each event left its outbox.
import { fromBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { PointsEarnedSchema } from "@ftgo/gen/ftgo/loyalty/v1/events_pb.js";
import { type LoyaltyService, type OrderPoints, OrderPointsState } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { type DatabaseLocation, openExistingDatabase } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { SagaDatabases } from "./saga-audit.js";

/** Whether each of `orderIds` was APPROVED, and the points its total is worth (whole units: USD 15.99 → 15). */
export function expectedPoints(
  dbs: SagaDatabases,
  orderIds: readonly string[],
): Map<string, { approved: boolean; points: number }> {
  const read = dbs.order.prepare<[string], { state: string; total_minor: number }>(
    "SELECT state, total_minor FROM orders WHERE order_id = ?",
  );
  return new Map(
    orderIds.map((orderId) => {
      const row = read.get(orderId);
      if (!row) throw new Error(`order ${orderId} is not in the order database`);
      return [orderId, { approved: row.state === "APPROVED", points: Math.floor(row.total_minor / 100) }];
    }),
  );
}

/** One PointsEarned in the stream: its order, points and header. */
export interface AnnouncedPoints {
  readonly orderId: string;
  readonly points: bigint;
  readonly messageId: string;
  readonly causationId: string | undefined;
  readonly subject: string;
}

/**
 * Every PointsEarned the Loyalty service published, originals only (a test republisher's copies, marked
 * `Ftgo-Test-Copy`, are left out): read message by message from FTGO_LOYALTY_EVENTS, nothing consumed.
 */
export async function pointsEarnedInStream(nc: NatsConnection): Promise<AnnouncedPoints[]> {
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const { state } = await jsm.streams.info("FTGO_LOYALTY_EVENTS");
  const found: AnnouncedPoints[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage("FTGO_LOYALTY_EVENTS", { seq }).catch(() => null);
    const original = msg && !msg.header.has("Ftgo-Test-Copy");
    if (!original || msg.header.get("Ftgo-Type") !== "ftgo.loyalty.v1.PointsEarned") continue;
    const event = fromBinary(PointsEarnedSchema, msg.data);
    found.push({
      orderId: event.orderId,
      points: event.points,
      messageId: msg.header.get("Ftgo-Message-Id"),
      causationId: msg.header.get("Ftgo-Causation-Id") || undefined,
      subject: msg.subject,
    });
  }
  return found;
}

/** Loyalty's database, read-only: how many PointsEarned rows each order put in the outbox. */
export function loyaltyOutboxCounts(where: string | DatabaseLocation): Map<string, number> {
  const db = openExistingDatabase(where, { readonly: true });
  try {
    const rows = db
      .prepare<[], { correlation_id: string; n: number }>(
        "SELECT correlation_id, count(*) AS n FROM outbox WHERE type = 'ftgo.loyalty.v1.PointsEarned' GROUP BY correlation_id",
      )
      .all();
    return new Map(rows.map((row) => [row.correlation_id, row.n]));
  } finally {
    db.close();
  }
}

/** How many times each value occurs. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

export interface SettleOptions {
  readonly accept?: (state: OrderPointsState) => boolean;
  readonly timeoutMs?: number;
  /** Added to the timeout message: the process's output, say. */
  readonly context?: () => string;
}

/**
 * Waits until Loyalty answers GetOrderPoints for `orderId` with a state `accept` takes (default: any but
 * PENDING) and resolves with that answer; `context` (the process's output) is added on timeout.
 */
export function loyaltySettles(
  client: Client<typeof LoyaltyService>,
  orderId: string,
  {
    accept = (state) => state !== OrderPointsState.PENDING,
    timeoutMs = 60_000,
    context = () => "",
  }: SettleOptions = {},
): Promise<OrderPoints> {
  return waitFor(
    async () => {
      const found = await client.getOrderPoints({ orderId }).catch(() => undefined);
      const points = found?.orderPoints;
      return points !== undefined && accept(points.state) && points;
    },
    { timeoutMs, intervalMs: 200, message: () => `loyalty to settle ${orderId}\n${context()}` },
  );
}
