// Delivery Service's tables, as migrations applied in order on start (see openDatabase), and a delivery's
// rows as the store reads them.
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { type Delivery, DeliverySchema, DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { money } from "@ftgo/platform";

export const MIGRATIONS = [
  `CREATE TABLE deliveries (
     order_id                TEXT PRIMARY KEY,
     restaurant_id           TEXT NOT NULL,
     state                   TEXT NOT NULL,
     courier_id              TEXT NOT NULL DEFAULT '',
     estimated_delivery_time INTEGER
   );`,
  // Scheduling by Kitchen's one-way notification, and courier assignment by publish/async responses.
  `ALTER TABLE deliveries ADD COLUMN ready_by INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN reason TEXT NOT NULL DEFAULT '';
   ALTER TABLE deliveries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN schedule_message_id TEXT NOT NULL DEFAULT '';
   CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'PENDING';
   CREATE TABLE courier_quotes (
     order_id                TEXT NOT NULL REFERENCES deliveries (order_id),
     courier_id              TEXT NOT NULL,
     estimated_delivery_time INTEGER NOT NULL,
     price_minor             INTEGER NOT NULL,
     currency                TEXT NOT NULL,
     chosen                  INTEGER NOT NULL CHECK (chosen IN (0, 1)),
     received_at             INTEGER NOT NULL,
     PRIMARY KEY (order_id, courier_id)
   );`,
  // A quote's place in the ranking, stored rather than implied by insertion order (SQLite's rowid, which
  // PostgreSQL has no equivalent of). Quotes kept before this migration all rank 0.
  `ALTER TABLE courier_quotes ADD COLUMN ranking INTEGER NOT NULL DEFAULT 0;`,
];

export type DeliveryStateName = keyof typeof DeliveryState;

export interface DeliveryRow {
  order_id: string;
  restaurant_id: string;
  state: DeliveryStateName;
  courier_id: string;
  estimated_delivery_time: number | null;
  ready_by: number;
  reason: string;
  attempts: number;
  next_attempt_at: number;
}

export interface QuoteRow {
  courier_id: string;
  estimated_delivery_time: number;
  price_minor: number;
  currency: string;
  chosen: number;
}

export function millis(timestamp: Timestamp | undefined): number {
  return timestamp ? timestampDate(timestamp).getTime() : 0;
}

export function toDelivery(row: DeliveryRow, quotes: QuoteRow[]): Delivery {
  return create(DeliverySchema, {
    orderId: row.order_id,
    restaurantId: row.restaurant_id,
    state: DeliveryState[row.state],
    courierId: row.courier_id,
    estimatedDeliveryTime:
      row.estimated_delivery_time === null ? undefined : timestampFromMs(row.estimated_delivery_time),
    readyBy: row.ready_by ? timestampFromMs(row.ready_by) : undefined,
    reason: row.reason,
    quotes: quotes.map((quote) =>
      create(CourierQuoteSchema, {
        orderId: row.order_id,
        courierId: quote.courier_id,
        estimatedDeliveryTime: timestampFromMs(quote.estimated_delivery_time),
        price: money(quote.price_minor, quote.currency),
      }),
    ),
  });
}
