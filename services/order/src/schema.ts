// Order Service's tables, as migrations applied in order on start (see openDatabase), and an order's row as
// the store reads it.
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Order, OrderLineItemSchema, OrderSchema, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { money } from "@ftgo/platform";

export type OrderStateName = keyof typeof OrderState;

export const MIGRATIONS = [
  `CREATE TABLE orders (
     seq           INTEGER PRIMARY KEY AUTOINCREMENT,
     order_id      TEXT NOT NULL UNIQUE,
     consumer_id   TEXT NOT NULL,
     restaurant_id TEXT NOT NULL,
     state         TEXT NOT NULL,
     reason        TEXT NOT NULL DEFAULT '',
     total_minor   INTEGER NOT NULL,
     currency      TEXT NOT NULL,
     line_items    TEXT NOT NULL,
     create_time   INTEGER NOT NULL,
     update_time   INTEGER NOT NULL
   );
   CREATE INDEX orders_by_consumer ON orders (consumer_id, seq);`,
  // The fallback of CreateOrder: the last menu seen of each restaurant, and which orders were priced from one.
  `ALTER TABLE orders ADD COLUMN priced_from_last_known_menu INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE known_menus (
     restaurant_id TEXT PRIMARY KEY,
     menu          BLOB NOT NULL,
     seen_at       INTEGER NOT NULL
   );`,
];

export interface OrderRow {
  seq: number;
  order_id: string;
  consumer_id: string;
  restaurant_id: string;
  state: OrderStateName;
  reason: string;
  total_minor: number;
  currency: string;
  line_items: string;
  create_time: number;
  update_time: number;
  priced_from_last_known_menu: number;
}

export function toOrder(row: OrderRow): Order {
  return create(OrderSchema, {
    orderId: row.order_id,
    consumerId: row.consumer_id,
    restaurantId: row.restaurant_id,
    state: OrderState[row.state],
    reason: row.reason,
    total: money(row.total_minor, row.currency),
    lineItems: (JSON.parse(row.line_items) as JsonValue[]).map((line) => fromJson(OrderLineItemSchema, line)),
    createTime: timestampFromMs(row.create_time),
    updateTime: timestampFromMs(row.update_time),
    pricedFromLastKnownMenu: row.priced_from_last_known_menu === 1,
  });
}
