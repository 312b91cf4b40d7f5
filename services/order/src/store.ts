// Order Service's own database: orders, the last known menus, their state history, the outbox and the
// processed-messages table. Persistence only, but for the two RPCs that start a saga (createPending,
// requestCancel), whose change and event are one transaction here; the message-driven steps are in steps.ts.
import { fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { AddressSchema } from "@ftgo/gen/ftgo/common/v1/address_pb.js";
import { type GetMenuResponse, GetMenuResponseSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderCancelRequestedSchema, OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  type Delivery,
  type Order,
  OrderLineItemSchema,
  OrderSchema,
  OrderState,
} from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import {
  createChangeFeed,
  createOutbox,
  createStateMachine,
  type Database,
  type DatabaseLocation,
  FailedPreconditionError,
  type MessageContext,
  NotFoundError,
  type Outbox,
  openDatabase,
  type StateHistory,
  type Transitions,
  type Watch,
} from "@ftgo/platform";
import type { PricedLines } from "./pricing.js";
import { MIGRATIONS, type OrderRow, type OrderStateName, toOrder } from "./schema.js";

/** The order state machine of both sagas: every change the code may make, and nothing else. */
export const ORDER_TRANSITIONS: Transitions<OrderStateName> = {
  APPROVAL_PENDING: ["APPROVED", "REJECTED"],
  APPROVED: ["CANCEL_PENDING"],
  CANCEL_PENDING: ["CANCELLED", "APPROVED"],
  REJECTED: [],
  CANCELLED: [],
};

/** What a new order is made of. */
export interface NewOrder extends PricedLines {
  readonly orderId: string;
  readonly consumerId: string;
  readonly restaurantId: string;
  /** The x-request-id of the CreateOrder call, carried into the saga's messages. */
  readonly requestId?: string;
  /** Priced from the last known menu because Kitchen could not answer. */
  readonly pricedFromLastKnownMenu?: boolean;
  /** Where and when to deliver; none for an order created through v1. */
  readonly delivery?: Delivery | undefined;
  /** The v2 CreateOrder call's key and its request's fingerprint; none for an order created through v1. */
  readonly idempotency?: IdempotencyKey | undefined;
}

/**
 * A client-chosen idempotency key, the consumer whose key it is, and a fingerprint of the request it came with
 * (see idempotency.ts). Keys are scoped to their consumer: two consumers' equal keys name two orders.
 */
export interface IdempotencyKey {
  readonly consumerId: string;
  readonly key: string;
  readonly fingerprint: string;
}

/** What caused a state change: the message handled (its id goes into the state history). */
type Cause = Pick<MessageContext, "messageId">;

/** One page of orders, newest first; `nextCursor` is the position after the last one, if any. */
export interface OrderPage {
  readonly orders: Order[];
  readonly nextCursor: number | undefined;
}

/** The persistence of Order Service; every write belongs inside one local transaction with its events. */
export interface OrderStore {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly history: StateHistory;
  /** Step 1 of Create Order: the order in APPROVAL_PENDING and OrderCreated, in one transaction. */
  createPending(order: NewOrder): Order;
  findOrder(orderId: string): Order | undefined;
  /** The order `consumerId` created with idempotency key `key`, and the fingerprint of the request that created it. */
  findByIdempotencyKey(consumerId: string, key: string): { order: Order; fingerprint: string } | undefined;
  /** Keeps the menu Kitchen just returned, as the fallback for when Kitchen cannot answer. */
  rememberMenu(menu: GetMenuResponse): void;
  /** The last menu seen of a restaurant, if any. */
  lastKnownMenu(restaurantId: string): GetMenuResponse | undefined;
  listOrders(query: { consumerId: string; limit: number; before: number | undefined }): OrderPage;
  /**
   * The guarded state changes of the saga steps (steps.ts), each caused by the message `ctx` handles: false
   * when the order was not in the state the change starts from. They publish nothing: the steps do.
   */
  approve(orderId: string, ctx: Cause): boolean; // APPROVAL_PENDING → APPROVED
  reject(orderId: string, reason: string, ctx: Cause): boolean; // APPROVAL_PENDING → REJECTED
  completeCancel(orderId: string, ctx: Cause): boolean; // CANCEL_PENDING → CANCELLED
  refuseCancel(orderId: string, reason: string, ctx: Cause): boolean; // CANCEL_PENDING → APPROVED
  /** Cancel Order step 1: APPROVED → CANCEL_PENDING and OrderCancelRequested; FAILED_PRECONDITION otherwise. */
  requestCancel(orderId: string, requestId?: string): Order;
  /**
   * WatchOrder's feed: the order as it is now, then the order after each state change, once that change has
   * committed, in commit order, each exactly once, until `signal` aborts. NotFoundError for an unknown order.
   */
  watchOrder(orderId: string, signal: AbortSignal): Watch<Order, Order>;
  /** How many WatchOrder watchers listen now (to one order, or to any): tests check none leaks. */
  watcherCount(orderId?: string): number;
  close(): void;
}

/** Opens the order database at `file`, creating the schema on first start. */
export function openOrderStore(where: string | DatabaseLocation, options: { partitions?: number } = {}): OrderStore {
  const db = openDatabase(where, MIGRATIONS);
  const outbox = createOutbox(db, options);
  const machine = createStateMachine(db, { entity: "order", table: "orders", transitions: ORDER_TRANSITIONS });
  const history = machine.history;
  // WatchOrder's change feed: each transition publishes the order it made; watchers, on any instance, get it
  // once it has committed.
  const feed = createChangeFeed(db, {
    name: "order",
    codec: {
      encode: (order: Order) => toBinary(OrderSchema, order),
      decode: (bytes) => fromBinary(OrderSchema, bytes),
    },
  });

  const insert = db.prepare(
    `INSERT INTO orders (order_id, consumer_id, restaurant_id, state, total_minor, currency, line_items,
                         create_time, update_time, priced_from_last_known_menu, idempotency_key, request_fingerprint,
                         delivery_address, deliver_at)
     VALUES (@orderId, @consumerId, @restaurantId, 'APPROVAL_PENDING', @totalMinor, @currency, @lineItems, @now, @now,
             @stale, @key, @fingerprint, @address, @deliverAt)`,
  );
  const saveMenu = db.prepare(
    `INSERT INTO known_menus (restaurant_id, menu, seen_at) VALUES (?, ?, ?)
     ON CONFLICT (restaurant_id) DO UPDATE SET menu = excluded.menu, seen_at = excluded.seen_at`,
  );
  const knownMenu = db.prepare<[string], { menu: Buffer }>("SELECT menu FROM known_menus WHERE restaurant_id = ?");
  /** The menu this process last saved, per restaurant (a few restaurants: a few entries). */
  const savedMenus = new Map<string, Buffer>();
  const byId = db.prepare<[string], OrderRow>("SELECT * FROM orders WHERE order_id = ?");
  const byKey = db.prepare<[string, string], OrderRow>(
    "SELECT * FROM orders WHERE consumer_id = ? AND idempotency_key = ?",
  );
  const page = db.prepare<{ consumerId: string; before: number; limit: number }, OrderRow>(
    `SELECT * FROM orders WHERE (@consumerId = '' OR consumer_id = @consumerId) AND seq < @before
     ORDER BY seq DESC LIMIT @limit`,
  );

  const find = (orderId: string) => {
    const row = byId.get(orderId);
    return row && toOrder(row);
  };

  /**
   * A guarded state change (see createStateMachine) that WatchOrder hears about once it has committed. The
   * order is read here, inside the transaction, so a watcher sees the state this change made even when a
   * later change commits before the feed delivers (re-reading after commit would skip the one in between).
   */
  const transition = (
    orderId: string,
    from: OrderStateName,
    to: OrderStateName,
    reason: string,
    messageId?: string,
  ) => {
    const moved = machine.transition(orderId, from, to, reason, messageId);
    if (moved) feed.publish(orderId, find(orderId) as Order);
    return moved;
  };

  return {
    db,
    outbox,
    history,
    createPending: db.transaction((order: NewOrder) => {
      // The row's consumer_id is what scopes its key: a key of another consumer's would be stored where
      // findByIdempotencyKey never looks for it, and a repeat would create a second order.
      if (order.idempotency && order.idempotency.consumerId !== order.consumerId) {
        throw new Error(`idempotency key of ${order.idempotency.consumerId} on an order of ${order.consumerId}`);
      }
      const lineItems = order.lineItems.map((line) => toJson(OrderLineItemSchema, line));
      const address = order.delivery?.address;
      const deliverAt = order.delivery?.deliverAt;
      insert.run({
        orderId: order.orderId,
        consumerId: order.consumerId,
        restaurantId: order.restaurantId,
        totalMinor: order.total.minorUnits,
        currency: order.total.currencyCode,
        lineItems: JSON.stringify(lineItems),
        now: Date.now(),
        stale: order.pricedFromLastKnownMenu ? 1 : 0,
        key: order.idempotency?.key ?? null,
        fingerprint: order.idempotency?.fingerprint ?? null,
        address: address ? JSON.stringify(toJson(AddressSchema, address)) : null,
        deliverAt: deliverAt ? timestampMs(deliverAt) : null,
      });
      history.record(order.orderId, null, "APPROVAL_PENDING");
      outbox.append(
        OrderCreatedSchema,
        {
          orderId: order.orderId,
          consumerId: order.consumerId,
          restaurantId: order.restaurantId,
          // The event's lines are v1's (the participants' contract): the kitchen's note stays with the order.
          lineItems: order.lineItems.map(({ menuItemId, name, quantity, price, total }) => ({
            menuItemId,
            name,
            quantity,
            price,
            total,
          })),
          total: order.total,
          deliveryAddress: address,
          deliverAt,
        },
        { correlationId: order.orderId, requestId: order.requestId },
      );
      return find(order.orderId) as Order;
    }),
    findOrder: find,
    findByIdempotencyKey(consumerId, key) {
      const row = byKey.get(consumerId, key);
      return row && { order: toOrder(row), fingerprint: row.request_fingerprint ?? "" };
    },
    rememberMenu(menu) {
      const restaurantId = menu.restaurant?.restaurantId;
      if (!restaurantId) return;
      const bytes = Buffer.from(toBinary(GetMenuResponseSchema, menu));
      // Nearly every order sees the menu the last one saw: only a change costs a write (and a commit).
      if (savedMenus.get(restaurantId)?.equals(bytes)) return;
      saveMenu.run(restaurantId, bytes, Date.now());
      savedMenus.set(restaurantId, bytes);
    },
    lastKnownMenu(restaurantId) {
      const row = knownMenu.get(restaurantId);
      return row && fromBinary(GetMenuResponseSchema, row.menu);
    },
    listOrders({ consumerId, limit, before }) {
      // Fetch one more than asked to learn whether another page exists.
      const rows = page.all({ consumerId, before: before ?? Number.MAX_SAFE_INTEGER, limit: limit + 1 });
      const more = rows.length > limit;
      const shown = more ? rows.slice(0, limit) : rows;
      return { orders: shown.map(toOrder), nextCursor: more ? shown[shown.length - 1]?.seq : undefined };
    },
    approve: (orderId, ctx) => transition(orderId, "APPROVAL_PENDING", "APPROVED", "", ctx.messageId),
    reject: (orderId, reason, ctx) => transition(orderId, "APPROVAL_PENDING", "REJECTED", reason, ctx.messageId),
    requestCancel: db.transaction((orderId: string, requestId?: string) => {
      const order = find(orderId);
      if (!order) throw new NotFoundError(`order ${orderId} not found`);
      if (!transition(orderId, "APPROVED", "CANCEL_PENDING", "")) {
        throw new FailedPreconditionError(
          `order ${orderId} is ${OrderState[order.state]}: only an APPROVED order can be cancelled`,
        );
      }
      outbox.append(OrderCancelRequestedSchema, { orderId }, { correlationId: orderId, requestId });
      return find(orderId) as Order;
    }),
    completeCancel: (orderId, ctx) => transition(orderId, "CANCEL_PENDING", "CANCELLED", "", ctx.messageId),
    refuseCancel: (orderId, reason, ctx) => transition(orderId, "CANCEL_PENDING", "APPROVED", reason, ctx.messageId),
    watchOrder(orderId, signal) {
      return feed.watch(orderId, signal, () => {
        const order = find(orderId);
        if (!order) throw new NotFoundError(`order ${orderId} not found`);
        return order;
      });
    },
    watcherCount: (orderId) => feed.listenerCount(orderId),
    close() {
      feed.close();
      db.close();
    },
  };
}
