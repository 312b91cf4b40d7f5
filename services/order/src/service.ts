import { randomUUID } from "node:crypto";
import { type Client, Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { type Order, type OrderService, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  currentCall,
  InvalidArgumentError,
  type Logger,
  NotFoundError,
  type OutboxRelay,
  UnavailableError,
  withFallback,
} from "@ftgo/platform";
import { priceLineItems } from "./pricing.js";
import type { NewOrder, OrderStore } from "./store.js";

/**
 * How an order's sagas start: under choreography, storing the change and its event is the start; under
 * orchestration, the orchestrator also records the saga and sends its first command, in the same transaction.
 */
export interface SagaStarter {
  createOrder(order: NewOrder): Order;
  cancelOrder(orderId: string, requestId?: string): Order;
}

export interface OrderDeps {
  readonly store: OrderStore;
  readonly sagas: SagaStarter;
  readonly kitchen: Client<typeof KitchenService>;
  /** Wakes the outbox relay after a commit that wrote messages, so they leave now rather than at its next poll. */
  readonly relay: Pick<OutboxRelay, "kick">;
  readonly log: Logger;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

/**
 * The gRPC handlers of Order Service. CreateOrder is the sync half of the Create Order saga: price the
 * order with a gRPC call to Kitchen, store it APPROVAL_PENDING, answer at once. Whether the consumer may
 * order, whether the kitchen takes it and whether the card pays are the saga's asynchronous questions.
 */
export function createOrderService({ store, sagas, kitchen, relay, log }: OrderDeps): ServiceImpl<typeof OrderService> {
  const orderOrThrow = (orderId: string) => {
    const order = store.findOrder(orderId);
    if (!order) throw new NotFoundError(`order ${orderId} not found`);
    return order;
  };

  return {
    async createOrder(req) {
      const { menu, stale } = await fetchMenu(kitchen, store, req.restaurantId, log);
      const priced = priceLineItems(menu, req.lineItems);
      const order = sagas.createOrder({
        orderId: randomUUID(),
        consumerId: req.consumerId,
        restaurantId: req.restaurantId,
        requestId: currentCall()?.requestId,
        pricedFromLastKnownMenu: stale,
        ...priced,
      });
      relay.kick();
      log.info({ orderId: order.orderId, total: Number(priced.total.minorUnits) }, "order created, saga started");
      return { order };
    },

    getOrder(req) {
      return { order: orderOrThrow(req.orderId) };
    },

    listOrders(req) {
      const limit = Math.min(req.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const page = store.listOrders({ consumerId: req.consumerId, limit, before: decodePageToken(req.pageToken) });
      return { orders: page.orders, nextPageToken: encodePageToken(page.nextCursor) };
    },

    cancelOrder(req) {
      const order = sagas.cancelOrder(req.orderId, currentCall()?.requestId);
      relay.kick();
      log.info({ orderId: order.orderId }, "cancel requested");
      return { order };
    },

    async *watchOrder(req, ctx) {
      // The feed listens before it reads the current state: every later change follows it, once and in order.
      // It stops listening when the call ends (ctx.signal), however it ends.
      const watch = store.watchOrder(req.orderId, ctx.signal);
      yield { order: watch.current };
      if (isFinal(watch.current)) return;
      for await (const order of watch.changes) {
        yield { order };
        if (isFinal(order)) return;
      }
    },
  };
}

/** REJECTED and CANCELLED orders never change again; an APPROVED one may still be cancelled. */
function isFinal(order: Order): boolean {
  return order.state === OrderState.REJECTED || order.state === OrderState.CANCELLED;
}

/**
 * Asks Kitchen for the restaurant's menu, turning its failures into errors in Order's words. When Kitchen
 * cannot answer (down, circuit open, too slow, too busy), the order is priced from the last menu Order has
 * seen of that restaurant, and the order says so: recovering from an unavailable service with a fallback.
 */
async function fetchMenu(kitchen: Client<typeof KitchenService>, store: OrderStore, restaurantId: string, log: Logger) {
  try {
    return await withFallback(
      async () => {
        const menu = await kitchen.getMenu({ restaurantId });
        store.rememberMenu(menu);
        return { menu, stale: false };
      },
      (outage) => {
        const menu = store.lastKnownMenu(restaurantId);
        if (!menu) throw outage;
        log.warn({ restaurantId, cause: outage.rawMessage }, "kitchen unavailable: pricing from the last known menu");
        return { menu, stale: true };
      },
    );
  } catch (err) {
    const cause = ConnectError.from(err);
    if (cause.code === Code.NotFound) throw new NotFoundError(`restaurant_id: restaurant ${restaurantId} not found`);
    throw new UnavailableError(`cannot price the order: kitchen is unavailable (${cause.rawMessage})`, { cause });
  }
}

function encodePageToken(cursor: number | undefined): string {
  return cursor === undefined ? "" : Buffer.from(`seq:${cursor}`).toString("base64url");
}

function decodePageToken(token: string): number | undefined {
  if (token === "") return undefined;
  const match = /^seq:(\d+)$/.exec(Buffer.from(token, "base64url").toString());
  if (!match) throw new InvalidArgumentError("page_token is not a token returned by ListOrders");
  return Number(match[1]);
}
