import { EventEmitter, on } from "node:events";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Order, OrderLineItemSchema, OrderSchema, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { FailedPreconditionError, money, NotFoundError, openDatabase } from "@ftgo/platform";
import type { PricedLines } from "./pricing.js";

const MIGRATIONS = [
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
];

interface OrderRow {
  seq: number;
  order_id: string;
  consumer_id: string;
  restaurant_id: string;
  state: keyof typeof OrderState;
  reason: string;
  total_minor: number;
  currency: string;
  line_items: string;
  create_time: number;
  update_time: number;
}

/** What a new order is made of. */
export interface NewOrder extends PricedLines {
  readonly orderId: string;
  readonly consumerId: string;
  readonly restaurantId: string;
}

/** One page of orders, newest first; `nextCursor` is the position after the last one, if any. */
export interface OrderPage {
  readonly orders: Order[];
  readonly nextCursor: number | undefined;
}

/** Order Service's own database. Nobody else reads it. */
export interface OrderStore {
  /** Stores a new order in APPROVAL_PENDING. */
  createPending(order: NewOrder): Order;
  findOrder(orderId: string): Order | undefined;
  listOrders(query: { consumerId: string; limit: number; before: number | undefined }): OrderPage;
  /** APPROVED → CANCEL_PENDING; FAILED_PRECONDITION in any other state. */
  requestCancel(orderId: string): Order;
  /** Yields the order each time it changes, until `signal` aborts. Subscribe before reading, to miss nothing. */
  changes(orderId: string, signal: AbortSignal): AsyncIterable<Order>;
  close(): void;
}

/** Opens the order database at `file`, creating the schema on first start. */
export function openOrderStore(file: string): OrderStore {
  const db = openDatabase(file, MIGRATIONS);
  // In-process change feed for WatchOrder; the saga's state changes will publish into it too.
  const changed = new EventEmitter().setMaxListeners(0);
  const insert = db.prepare(
    `INSERT INTO orders (order_id, consumer_id, restaurant_id, state, total_minor, currency, line_items,
                         create_time, update_time)
     VALUES (@orderId, @consumerId, @restaurantId, 'APPROVAL_PENDING', @totalMinor, @currency, @lineItems, @now, @now)`,
  );
  const byId = db.prepare<[string], OrderRow>("SELECT * FROM orders WHERE order_id = ?");
  const page = db.prepare<{ consumerId: string; before: number; limit: number }, OrderRow>(
    `SELECT * FROM orders WHERE (@consumerId = '' OR consumer_id = @consumerId) AND seq < @before
     ORDER BY seq DESC LIMIT @limit`,
  );
  const setState = db.prepare<{ orderId: string; from: string; to: string; reason: string; now: number }>(
    `UPDATE orders SET state = @to, reason = @reason, update_time = @now WHERE order_id = @orderId AND state = @from`,
  );

  const find = (orderId: string) => {
    const row = byId.get(orderId);
    return row && toOrder(row);
  };
  return {
    createPending(order) {
      insert.run({
        orderId: order.orderId,
        consumerId: order.consumerId,
        restaurantId: order.restaurantId,
        totalMinor: order.total.minorUnits,
        currency: order.total.currencyCode,
        lineItems: JSON.stringify(order.lineItems.map((line) => toJson(OrderLineItemSchema, line))),
        now: Date.now(),
      });
      return find(order.orderId) as Order;
    },
    findOrder: find,
    listOrders({ consumerId, limit, before }) {
      // Fetch one more than asked to learn whether another page exists.
      const rows = page.all({ consumerId, before: before ?? Number.MAX_SAFE_INTEGER, limit: limit + 1 });
      const more = rows.length > limit;
      const shown = more ? rows.slice(0, limit) : rows;
      return { orders: shown.map(toOrder), nextCursor: more ? shown[shown.length - 1]?.seq : undefined };
    },
    requestCancel(orderId) {
      const order = find(orderId);
      if (!order) throw new NotFoundError(`order ${orderId} not found`);
      const moved = setState.run({ orderId, from: "APPROVED", to: "CANCEL_PENDING", reason: "", now: Date.now() });
      if (moved.changes === 0) {
        throw new FailedPreconditionError(
          `order ${orderId} is ${OrderState[order.state]}: only an APPROVED order can be cancelled`,
        );
      }
      const updated = find(orderId) as Order;
      changed.emit(orderId, updated);
      return updated;
    },
    changes(orderId, signal) {
      return mapIterable(on(changed, orderId, { signal }), ([order]) => order as Order);
    },
    close: () => db.close(),
  };
}

function toOrder(row: OrderRow): Order {
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
  });
}

async function* mapIterable<A, B>(source: AsyncIterable<A>, fn: (a: A) => B): AsyncIterable<B> {
  for await (const item of source) yield fn(item);
}
