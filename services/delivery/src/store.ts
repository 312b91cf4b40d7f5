// Delivery Service's own database. A delivery is created PENDING by Kitchen's one-way ScheduleDelivery
// command (inside the inbox transaction), and becomes SCHEDULED once the courier dispatcher has gathered
// quotes and assigned the best courier, in a transaction of its own. The courier is assigned at most once,
// however many Delivery instances share the database: the assignment is an UPDATE guarded by
// `state = 'PENDING'`, and only the instance whose UPDATE changed the row records its quotes.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ScheduleDelivery } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import type { CourierQuote } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import type { Delivery } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { DeliveryScheduledSchema } from "@ftgo/gen/ftgo/delivery/v1/events_pb.js";
import {
  createOutbox,
  type Database,
  type DatabaseLocation,
  type MessageContext,
  type Outbox,
  openDatabase,
} from "@ftgo/platform";
import { DEFAULT_MAX_QUOTES } from "./quote-rules.js";
import { type DeliveryRow, MIGRATIONS, millis, type QuoteRow, toDelivery } from "./schema.js";

/** A delivery still waiting for a courier, as the dispatcher needs it. */
export interface PendingDelivery {
  readonly orderId: string;
  readonly restaurantId: string;
  /** Milliseconds since the epoch. */
  readonly readyBy: number;
  /** Earlier gatherings that found no courier. */
  readonly attempts: number;
}

/** Delivery Service's own database: deliveries, the quotes couriers gave, the outbox and the processed-messages table. */
export interface DeliveryStore {
  readonly db: Database;
  readonly outbox: Outbox;
  findDelivery(orderId: string): Delivery | undefined;
  /**
   * Kitchen's ScheduleDelivery (a one-way notification): records the delivery PENDING, to be given a courier
   * by the dispatcher. Runs in the inbox transaction. A second command for the same order changes nothing
   * (false).
   */
  scheduleDelivery(command: ScheduleDelivery, ctx: Pick<MessageContext, "messageId">): boolean;
  /** PENDING deliveries whose next attempt is due at `now`, oldest first. */
  dueDeliveries(now: number): PendingDelivery[];
  /** When the next PENDING delivery is due; undefined when none waits. */
  nextDueAt(): number | undefined;
  /**
   * PENDING → SCHEDULED with `chosen`, recording the first `maxQuotes` of `quotes` (ranked, best first) and
   * publishing DeliveryScheduled. False,
   * with nothing changed, when the delivery is no longer PENDING (another instance assigned it first).
   */
  assignCourier(orderId: string, chosen: CourierQuote, quotes: readonly CourierQuote[]): boolean;
  /** No courier answered: stays PENDING with `reason`, tried again at `nextAttemptAt`. */
  postponeAssignment(orderId: string, reason: string, nextAttemptAt: number): boolean;
  close(): void;
}

export interface DeliveryStoreOptions {
  readonly partitions?: number;
  /**
   * At most this many quotes are recorded per order, the best first, and at most this many are read back:
   * a delivery (and every GetDelivery answer) stays small however many couriers answered, and however
   * many rows an older version recorded. Default DEFAULT_MAX_QUOTES.
   */
  readonly maxQuotes?: number;
}

/** Opens the delivery database at `file`, creating or upgrading the schema. */
export function openDeliveryStore(where: string | DatabaseLocation, options: DeliveryStoreOptions = {}): DeliveryStore {
  const { maxQuotes = DEFAULT_MAX_QUOTES } = options;
  const db = openDatabase(where, MIGRATIONS);
  const outbox = createOutbox(db, options);
  const byOrder = db.prepare<[string], DeliveryRow>("SELECT * FROM deliveries WHERE order_id = ?");
  const quotesOf = db.prepare<[string, number], QuoteRow>(
    "SELECT * FROM courier_quotes WHERE order_id = ? ORDER BY ranking LIMIT ?", // ranked by rankQuotes
  );
  const insertPending = db.prepare(
    `INSERT INTO deliveries (order_id, restaurant_id, state, ready_by, schedule_message_id)
     VALUES (@orderId, @restaurantId, 'PENDING', @readyBy, @messageId)
     ON CONFLICT (order_id) DO NOTHING`,
  );
  const due = db.prepare<[number], DeliveryRow>(
    "SELECT * FROM deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at, ready_by",
  );
  const nextDue = db.prepare<[], { at: number | null }>(
    "SELECT min(next_attempt_at) AS at FROM deliveries WHERE state = 'PENDING'",
  );
  const schedule = db.prepare<[string, number, string]>(
    `UPDATE deliveries SET state = 'SCHEDULED', courier_id = ?, estimated_delivery_time = ?, reason = ''
     WHERE order_id = ? AND state = 'PENDING'`,
  );
  const insertQuote = db.prepare(
    `INSERT INTO courier_quotes
       (order_id, courier_id, estimated_delivery_time, price_minor, currency, chosen, received_at, ranking)
     VALUES (@orderId, @courierId, @eta, @priceMinor, @currency, @chosen, @now, @ranking)
     ON CONFLICT (order_id, courier_id) DO UPDATE SET
       estimated_delivery_time = excluded.estimated_delivery_time, price_minor = excluded.price_minor,
       currency = excluded.currency, chosen = excluded.chosen, received_at = excluded.received_at,
       ranking = excluded.ranking`,
  );
  const postpone = db.prepare<[string, number, string]>(
    `UPDATE deliveries SET reason = ?, attempts = attempts + 1, next_attempt_at = ?
     WHERE order_id = ? AND state = 'PENDING'`,
  );

  return {
    db,
    outbox,
    findDelivery(orderId) {
      const row = byOrder.get(orderId);
      return row && toDelivery(row, quotesOf.all(orderId, maxQuotes));
    },
    scheduleDelivery(command, ctx) {
      const readyBy = command.readyBy ? timestampDate(command.readyBy).getTime() : Date.now();
      const { changes } = insertPending.run({
        orderId: command.orderId,
        restaurantId: command.restaurantId,
        readyBy,
        messageId: ctx.messageId,
      });
      return changes === 1;
    },
    dueDeliveries: (now) =>
      due.all(now).map((row) => ({
        orderId: row.order_id,
        restaurantId: row.restaurant_id,
        readyBy: row.ready_by,
        attempts: row.attempts,
      })),
    nextDueAt: () => nextDue.get()?.at ?? undefined,
    assignCourier: db.transaction((orderId: string, chosen: CourierQuote, quotes: readonly CourierQuote[]) => {
      const eta = millis(chosen.estimatedDeliveryTime);
      if (schedule.run(chosen.courierId, eta, orderId).changes === 0) return false;
      const now = Date.now();
      for (const [ranking, quote] of quotes.slice(0, maxQuotes).entries()) {
        insertQuote.run({
          ranking,
          orderId,
          courierId: quote.courierId,
          eta: millis(quote.estimatedDeliveryTime),
          priceMinor: quote.price?.minorUnits ?? 0n,
          currency: quote.price?.currencyCode ?? "",
          chosen: quote.courierId === chosen.courierId ? 1 : 0,
          now,
        });
      }
      outbox.append(
        DeliveryScheduledSchema,
        { orderId, courierId: chosen.courierId, estimatedDeliveryTime: chosen.estimatedDeliveryTime },
        { correlationId: orderId },
      );
      return true;
    }),
    postponeAssignment: (orderId, reason, nextAttemptAt) => postpone.run(reason, nextAttemptAt, orderId).changes === 1,
    close: () => db.close(),
  };
}
