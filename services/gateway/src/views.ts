// The composed views of an order: the full one for the web API and the mobile BFF's compact one. Both
// come from the same composition and the same cache entry; they differ only in what they show.
import { mayReadOrdersOf } from "./auth.js";
import { orderKey, sendCached } from "./cache.js";
import { composeOrderDetails, type OrderDetails, toMobileView } from "./compose.js";
import type { RouteContext } from "./context.js";
import { notFound } from "./errors.js";

/** Per caller, and always revalidated (cheap with the ETag): the cache lives in the gateway, not in proxies. */
const PRIVATE = "private, no-cache";

/** GET /api/v1/orders/{orderId}: the order, its ticket, delivery and payment. */
export function getOrderDetails(ctx: RouteContext): Promise<unknown> {
  return sendComposed(ctx, (details) => details);
}

/** GET /mobile/v1/orders/{orderId}: what the app's order screen shows, in one round trip. */
export function getMobileOrder(ctx: RouteContext): Promise<unknown> {
  return sendComposed(ctx, toMobileView);
}

function sendComposed(ctx: RouteContext, view: (details: OrderDetails) => unknown): Promise<unknown> {
  const { deps, params, request, caller } = ctx;
  const orderId = params.orderId ?? "";
  const compose = async () => {
    const details = await composeOrderDetails(deps.backends, orderId, {
      legTimeoutMs: deps.config.legTimeoutMs,
      requestId: request.id,
      log: deps.log.child({ requestId: request.id, orderId }),
    });
    // A view with a hole is not worth keeping: the next request may fill it.
    return { value: details, cacheable: details.unavailable.length === 0 };
  };
  return sendCached(ctx, orderKey(orderId), deps.config.cache.orderTtlMs, PRIVATE, compose, (details) => {
    if (!mayReadOrdersOf(caller, String(details.order.consumerId))) throw notFound(`order ${orderId} not found`);
    return view(details);
  });
}
