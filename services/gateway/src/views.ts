// The composed views of an order: the full one for the web API, in either version of the orders API, and
// the mobile BFF's compact one. They come from the same composition; the cache keeps one entry per version
// (each shows the order in its own form), and the mobile view shares v1's.
import { mayReadOrdersOf } from "./auth.js";
import { orderKey, sendCached } from "./cache.js";
import { composeOrderDetails, type OrderDetails, toMobileView } from "./compose.js";
import type { RouteContext } from "./context.js";
import { notFound } from "./errors.js";
import { ORDERS_V1, type OrderApi } from "./order-api.js";

/** Per caller, and always revalidated (cheap with the ETag): the cache lives in the gateway, not in proxies. */
const PRIVATE = "private, no-cache";

/** GET /api/{version}/orders/{orderId}: the order, its ticket, delivery, payment and points. */
export function orderDetailsOf(orders: OrderApi): (ctx: RouteContext) => Promise<unknown> {
  return (ctx) => sendComposed(ctx, orders, (details) => details);
}

/** GET /mobile/v1/orders/{orderId}: what the app's order screen shows, in one round trip. */
export function getMobileOrder(ctx: RouteContext): Promise<unknown> {
  return sendComposed(ctx, ORDERS_V1, toMobileView);
}

/**
 * The view is composed with this caller's end-user claim (secure mode), so Order answers it only for its owner
 * or an admin; once cached it is the same for whoever composed it, and every reader, hit or miss, passes
 * mayReadOrdersOf before seeing it: the cache never shows one consumer's order to another.
 */
function sendComposed(ctx: RouteContext, orders: OrderApi, view: (details: OrderDetails) => unknown): Promise<unknown> {
  const { deps, params, request, caller } = ctx;
  const orderId = params.orderId ?? "";
  const compose = async () => {
    const details = await composeOrderDetails(deps.backends, orderId, {
      orders,
      legTimeoutMs: deps.config.legTimeoutMs,
      requestId: request.id,
      endUser: await deps.claims.headersFor(caller),
      log: deps.log.child({ requestId: request.id, orderId }),
    });
    // A view with a hole is not worth keeping: the next request may fill it. Nor is one whose points are still
    // PENDING: Loyalty settles a rejected order's points to NONE without publishing anything, so no event would
    // drop the stale entry (the cache lives off events, cache.ts).
    const pendingPoints = details.points?.state === "PENDING";
    return { value: details, cacheable: details.unavailable.length === 0 && !pendingPoints };
  };
  const key = orderKey(orderId, orders.version);
  return sendCached(ctx, key, deps.config.cache.orderTtlMs, PRIVATE, compose, (details) => {
    if (!mayReadOrdersOf(caller, String(details.order.consumerId))) throw notFound(`order ${orderId} not found`);
    return view(details);
  });
}
