// Order Service's tables, as migrations applied in order on start (see openDatabase), and an order's row as
// the store reads it. The row's shape is ftgo.order.v2's Order: v2 is the model, and v1 is a view of it
// (v1/mapping.ts), so that neither version can lose what the other one wrote.
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { AddressSchema } from "@ftgo/gen/ftgo/common/v1/address_pb.js";
import {
  type Order,
  OrderLineItemSchema,
  OrderSchema,
  OrderState,
  PriceSource,
} from "@ftgo/gen/ftgo/order/v2/order_pb.js";
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
  // ftgo.order.v2: the idempotency key of the CreateOrder call and a fingerprint of the request it came with
  // (NULL for v1 orders; the UNIQUE index is the last word when two calls with one key race), where and when
  // to deliver (NULL for v1 orders). Per-line special instructions live in line_items, which now holds v2's
  // OrderLineItem as JSON: the rows written before parse unchanged, without instructions.
  `ALTER TABLE orders ADD COLUMN idempotency_key TEXT;
   ALTER TABLE orders ADD COLUMN request_fingerprint TEXT;
   ALTER TABLE orders ADD COLUMN delivery_address TEXT;
   ALTER TABLE orders ADD COLUMN deliver_at INTEGER;
   CREATE UNIQUE INDEX orders_by_idempotency_key ON orders (idempotency_key);`,
  // An idempotency key is its consumer's: the same key from two consumers names two orders, and a key unique
  // across all consumers refused the second one and told it the first had used the key. Each row the old index
  // allowed is unique on (consumer_id, idempotency_key) too, so the new index builds over any database the old
  // one guarded; NULL keys (v1 orders) stay distinct as before.
  `DROP INDEX orders_by_idempotency_key;
   CREATE UNIQUE INDEX orders_by_consumer_idempotency_key ON orders (consumer_id, idempotency_key);`,
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
  idempotency_key: string | null;
  request_fingerprint: string | null;
  /** ftgo.common.v1.Address as JSON. */
  delivery_address: string | null;
  deliver_at: number | null;
}

/**
 * An order's row as v2 sees it. The one `reason` column holds whichever reason the order's state has: a
 * REJECTED order's is the rejection's, an APPROVED order's the last refused cancel's (approving writes ''),
 * so the two v2 fields are read off the state rather than stored twice.
 */
export function toOrder(row: OrderRow): Order {
  const state = OrderState[row.state];
  return create(OrderSchema, {
    orderId: row.order_id,
    idempotencyKey: row.idempotency_key ?? "",
    consumerId: row.consumer_id,
    restaurantId: row.restaurant_id,
    lineItems: (JSON.parse(row.line_items) as JsonValue[]).map((line) =>
      fromJson(OrderLineItemSchema, line, { ignoreUnknownFields: true }),
    ),
    total: money(row.total_minor, row.currency),
    priceSource: row.priced_from_last_known_menu === 1 ? PriceSource.LAST_KNOWN_MENU : PriceSource.CURRENT_MENU,
    delivery: row.delivery_address === null ? undefined : toDelivery(row.delivery_address, row.deliver_at),
    state,
    rejectionReason: state === OrderState.REJECTED ? row.reason : "",
    cancelRefusalReason: state === OrderState.APPROVED ? row.reason : "",
    createTime: timestampFromMs(row.create_time),
    updateTime: timestampFromMs(row.update_time),
  });
}

function toDelivery(address: string, deliverAt: number | null) {
  return {
    address: fromJson(AddressSchema, JSON.parse(address) as JsonValue),
    deliverAt: deliverAt === null ? undefined : timestampFromMs(deliverAt),
  };
}
