// What Order Service does for its callers, in v2's words (the model), whichever version they call: both
// versions' handlers (v1/service.ts, v2/service.ts) translate their requests into these and the answers
// back. CreateOrder is the sync half of the Create Order saga: price the order with a gRPC call to
// Kitchen, store it APPROVAL_PENDING, answer at once. Whether the consumer may order, whether the kitchen
// takes it and whether the card pays are the saga's asynchronous questions.
import { randomUUID } from "node:crypto";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { type Delivery, type Order, OrderState } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import {
  currentCall,
  type Logger,
  NotFoundError,
  type OutboxRelay,
  UnavailableError,
  withFallback,
} from "@ftgo/platform";
import { consumerToList, requireMayOrderFor, requireMayRead } from "./access.js";
import { createOrderOnce, firstOrderFor } from "./idempotency.js";
import type { PageTokens } from "./page-token.js";
import { priceLineItems, type RequestedLine } from "./pricing.js";
import type { IdempotencyKey, NewOrder, OrderStore } from "./store.js";

/**
 * How an order's sagas start: under choreography, storing the change and its event is the start; under
 * orchestration, the orchestrator also records the saga and sends its first command, in the same transaction.
 */
export interface SagaStarter {
  createOrder(order: NewOrder): Order;
  cancelOrder(orderId: string, requestId?: string): Order;
}

export interface OrdersDeps {
  readonly store: OrderStore;
  readonly sagas: SagaStarter;
  readonly kitchen: Client<typeof KitchenService>;
  /** Wakes the outbox relay after a commit that wrote messages, so they leave now rather than at its next poll. */
  readonly relay: Pick<OutboxRelay, "kick">;
  /** Seals ListOrders' page tokens (page-token.ts). */
  readonly pageTokens: PageTokens;
  readonly log: Logger;
}

/** An order as a caller asks for it: v1 leaves out the delivery and the key. */
export interface PlaceOrder {
  readonly consumerId: string;
  readonly restaurantId: string;
  readonly lineItems: readonly RequestedLine[];
  readonly delivery?: Delivery | undefined;
  readonly idempotency?: IdempotencyKey | undefined;
}

export interface ListQuery {
  readonly consumerId: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

/** Order Service's operations over its one store, for the handlers of every version. */
export function createOrders({ store, sagas, kitchen, relay, pageTokens, log }: OrdersDeps) {
  const createOnce = createOrderOnce(store, sagas.createOrder);

  // Each operation asks access.ts first: whose orders the call may touch (anyone's in the learner's mode).
  const orderOrThrow = (orderId: string) => requireMayRead(store.findOrder(orderId), orderId);

  return {
    /** Creates the order and starts its saga, or returns the first order of a repeated idempotency key. */
    async placeOrder(request: PlaceOrder): Promise<Order> {
      requireMayOrderFor(request.consumerId);
      const repeated = request.idempotency && firstOrderFor(store, request.idempotency);
      if (repeated) return answerRepeat(repeated);
      const { menu, stale } = await fetchMenu(kitchen, store, request.restaurantId, log);
      const priced = priceLineItems(menu, request.lineItems);
      const { order, created } = createOnce({
        orderId: randomUUID(),
        consumerId: request.consumerId,
        restaurantId: request.restaurantId,
        requestId: currentCall()?.requestId,
        pricedFromLastKnownMenu: stale,
        delivery: request.delivery,
        idempotency: request.idempotency,
        ...priced,
      });
      if (!created) return answerRepeat(order);
      relay.kick();
      log.info({ orderId: order.orderId, total: Number(priced.total.minorUnits) }, "order created, saga started");
      return order;
    },

    getOrder: orderOrThrow,

    listOrders({ consumerId: asked, pageSize, pageToken }: ListQuery) {
      const consumerId = consumerToList(asked);
      const limit = Math.min(pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const page = store.listOrders({ consumerId, limit, before: pageTokens.open(pageToken, consumerId) });
      return { orders: page.orders, nextPageToken: pageTokens.seal(page.nextCursor, consumerId) };
    },

    cancelOrder(orderId: string): Order {
      orderOrThrow(orderId);
      const order = sagas.cancelOrder(orderId, currentCall()?.requestId);
      relay.kick();
      log.info({ orderId: order.orderId }, "cancel requested");
      return order;
    },

    /**
     * The order now, then after each change until it is final. The feed listens before it reads the current
     * state: every later change follows it, once and in order. It stops listening when `signal` aborts.
     */
    async *watchOrder(orderId: string, signal: AbortSignal): AsyncGenerator<Order> {
      orderOrThrow(orderId);
      const watch = store.watchOrder(orderId, signal);
      yield watch.current;
      if (isFinal(watch.current)) return;
      for await (const order of watch.changes) {
        yield order;
        if (isFinal(order)) return;
      }
    },
  };

  function answerRepeat(order: Order): Order {
    log.info({ orderId: order.orderId }, "idempotency key seen before: answering with its order, starting nothing");
    return order;
  }
}

export type Orders = ReturnType<typeof createOrders>;

/** REJECTED and CANCELLED orders never change again; an APPROVED one may still be cancelled. */
function isFinal(order: Order): boolean {
  return order.state === OrderState.REJECTED || order.state === OrderState.CANCELLED;
}

/** What pricing falls back on when Kitchen cannot answer GetMenu (fetchMenu), as AdminService's stats say it. */
export const KITCHEN_MENU_FALLBACK = "the last menu Order has seen of the restaurant";

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
