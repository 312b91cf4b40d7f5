// API composition: one request of the client, several queries of the services that own the data, run in
// parallel and joined here. An order's details come from five services; four of them are a nice-to-have,
// so each gets its own deadline and a failed or slow one leaves a hole (`null`, named in `unavailable`)
// instead of failing the whole answer. Only the order itself is essential.
import type { JsonObject } from "@bufbuild/protobuf";
import { type CallOptions, Code, ConnectError } from "@connectrpc/connect";
import { AuthorizationSchema } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { type Delivery, DeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { TicketSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderPointsSchema } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { isOutage, type Logger, REQUEST_ID_HEADER } from "@ftgo/platform";
import type { Backends } from "./clients.js";
import { GatewayError, notFound } from "./errors.js";
import type { OrderApi } from "./order-api.js";
import { toRest } from "./translate.js";

/** The optional parts of a composed order, each from the service that owns it. */
export type Leg = "ticket" | "delivery" | "payment" | "points";

/** The gRPC calls one composition makes, as the routing map names them: the order, then its legs. */
export const ORDER_DETAILS_CALLS = [
  "OrderService.GetOrder",
  "KitchenService.GetTicket",
  "DeliveryService.GetDelivery",
  "AccountingService.GetAuthorization",
  "LoyaltyService.GetOrderPoints",
] as const;

export interface OrderDetails {
  readonly order: JsonObject;
  /** Kitchen's ticket; null until the saga created one. */
  readonly ticket: JsonObject | null;
  /** Delivery's delivery; null until one is scheduled. */
  readonly delivery: JsonObject | null;
  /** Accounting's card authorization. */
  readonly payment: JsonObject | null;
  /** The loyalty points of the order, from Loyalty (a Go service): pending, earned, revoked or none. */
  readonly points: JsonObject | null;
  /** The legs that could not be fetched in time: their `null` means "unknown", not "none". */
  readonly unavailable: Leg[];
}

export interface ComposeOptions {
  /** The version of the orders API the client called: the order is read, and shown, in its form. */
  readonly orders: OrderApi;
  readonly legTimeoutMs: number;
  readonly requestId: string;
  /** The caller's signed end-user claim, in the secure mode (end-user.ts); none in the learner's mode. */
  readonly endUser?: Readonly<Record<string, string>>;
  readonly log: Logger;
}

/** Fetches an order and its ticket, delivery, payment and points in parallel; 404 without the order, 503 without Order. */
export async function composeOrderDetails(
  backends: Backends,
  orderId: string,
  { orders, legTimeoutMs, requestId, endUser, log }: ComposeOptions,
): Promise<OrderDetails> {
  const options: CallOptions = { timeoutMs: legTimeoutMs, headers: { [REQUEST_ID_HEADER]: requestId, ...endUser } };
  const request = { orderId };
  const [order, ticket, delivery, payment, points] = await Promise.all([
    orders.getOrder(backends, orderId, options).then(
      (order) => {
        if (!order) throw notFound(`order ${orderId} not found`);
        return order;
      },
      (error: unknown) => {
        throw orderLegFailed(orderId, error);
      },
    ),
    optionalLeg(log, "ticket", () =>
      backends.kitchen.getTicket(request, options).then(({ ticket }) => ticket && toRest(TicketSchema, ticket)),
    ),
    optionalLeg(log, "delivery", () =>
      backends.delivery
        .getDelivery(request, options)
        .then(({ delivery }) => delivery && toRest(DeliverySchema, boundedQuotes(delivery))),
    ),
    optionalLeg(log, "payment", () =>
      backends.accounting
        .getAuthorization(request, options)
        .then(({ authorization }) => authorization && toRest(AuthorizationSchema, authorization)),
    ),
    optionalLeg(log, "points", () =>
      backends.loyalty
        .getOrderPoints(request, options)
        .then(({ orderPoints }) => orderPoints && toRest(OrderPointsSchema, orderPoints)),
    ),
  ]);
  const legs = { ticket, delivery, payment, points };
  return {
    order,
    ticket: ticket.value,
    delivery: delivery.value,
    payment: payment.value,
    points: points.value,
    unavailable: (Object.keys(legs) as Leg[]).filter((leg) => !legs[leg].available),
  };
}

/**
 * The most courier quotes an order's view shows. Delivery records and answers at most its own cap (16 by
 * default), best first; the gateway does not count on it, so that a flood of quotes — or a Delivery of an
 * older version — cannot make every GET of the order large.
 */
export const MAX_QUOTES_SHOWN = 16;

function boundedQuotes(delivery: Delivery): Delivery {
  if (delivery.quotes.length <= MAX_QUOTES_SHOWN) return delivery;
  return { ...delivery, quotes: delivery.quotes.slice(0, MAX_QUOTES_SHOWN) };
}

interface LegResult {
  readonly value: JsonObject | null;
  /** False when the service did not answer; true when it answered, NOT_FOUND included. */
  readonly available: boolean;
}

async function optionalLeg(log: Logger, leg: Leg, fetch: () => Promise<JsonObject | undefined>): Promise<LegResult> {
  try {
    return { value: (await fetch()) ?? null, available: true };
  } catch (thrown) {
    const error = ConnectError.from(thrown);
    // Not there yet (no ticket before the saga creates one) is an answer, not an outage.
    if (error.code === Code.NotFound) return { value: null, available: true };
    log.warn({ leg, code: Code[error.code], err: error.rawMessage }, "composition leg unavailable");
    return { value: null, available: false };
  }
}

function orderLegFailed(orderId: string, thrown: unknown): GatewayError | ConnectError {
  const error = ConnectError.from(thrown);
  if (error.code === Code.NotFound) return notFound(`order ${orderId} not found`);
  if (isOutage(error)) {
    return new GatewayError(503, "UNAVAILABLE", `the order service cannot be reached: ${error.rawMessage}`, {
      "retry-after": "1",
    });
  }
  return error;
}

/** The mobile app's one-screen view of an order: what it shows, in one round trip, computed from the same composition. */
export interface MobileOrderView {
  readonly orderId: string;
  readonly status: string;
  readonly reason: string;
  /** When the courier is expected; null until a delivery is scheduled (or Delivery could not say). */
  readonly eta: string | null;
  readonly total: JsonObject | null;
  readonly itemCount: number;
  readonly unavailable: Leg[];
}

export function toMobileView(details: OrderDetails): MobileOrderView {
  const { order, delivery } = details;
  const lineItems = (order.lineItems ?? []) as JsonObject[];
  return {
    orderId: String(order.orderId),
    status: String(order.state),
    reason: String(order.reason ?? ""),
    eta: typeof delivery?.estimatedDeliveryTime === "string" ? delivery.estimatedDeliveryTime : null,
    total: (order.total as JsonObject | undefined) ?? null,
    itemCount: lineItems.reduce((sum, item) => sum + Number(item.quantity ?? 0), 0),
    unavailable: details.unavailable,
  };
}
