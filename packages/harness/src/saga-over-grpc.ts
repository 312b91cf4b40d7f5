// One order's Create Order saga as an outside caller sees it: placed with CreateOrder (v1 or v2), followed
// with the participants' Get RPCs. (placeOrderThroughGateway does the same over HTTP; sagasSettleInDatabases follows
// many sagas in the databases.)
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { AuthorizationState } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { type Order, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  type DeliverySchema,
  type OrderService as OrderServiceV2,
  OrderState as OrderStateV2,
  type Order as OrderV2,
} from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { waitFor } from "@ftgo/platform/testing";
import type { MeshClients } from "./mesh-clients.js";

/** CreateOrder straight to Order: 2× m-1 + 1× m-3 at r-1 (total 1500), unless another restaurant or lines are given. */
export async function placeOrderOverGrpc(
  clients: MeshClients,
  consumerId: string,
  restaurantId = "r-1",
  lineItems = restaurantId === "r-2"
    ? [{ menuItemId: "m-10", quantity: 1 }]
    : [
        { menuItemId: "m-1", quantity: 2 },
        { menuItemId: "m-3", quantity: 1 },
      ],
): Promise<Order> {
  const { order } = await clients.order.createOrder({ consumerId, restaurantId, lineItems });
  if (!order) throw new Error("CreateOrder answered without an order");
  return order;
}

const SETTLED = new Set([OrderState.APPROVED, OrderState.REJECTED, OrderState.CANCELLED]);

/** Polls GetOrder until the order reaches `states` (default: any state the Create Order saga ends in). */
export function orderReaches(clients: MeshClients, orderId: string, states = SETTLED, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const { order } = await clients.order.getOrder({ orderId });
      return order && states.has(order.state) ? order : undefined;
    },
    { timeoutMs, intervalMs: 25, message: `order ${orderId} did not reach ${[...states].map((s) => OrderState[s])}` },
  );
}

/**
 * The saga's end state in the three participants that keep state, as names: easy to compare and to read.
 * `NONE` where a participant has nothing for the order (NOT_FOUND): an orchestrated saga that failed
 * early never asked the later participants anything.
 */
export async function sagaStates(clients: MeshClients, orderId: string) {
  const [{ order }, ticket, authorization] = await Promise.all([
    clients.order.getOrder({ orderId }),
    orNone(clients.kitchen.getTicket({ orderId }).then((r) => r.ticket)),
    orNone(clients.accounting.getAuthorization({ orderId }).then((r) => r.authorization)),
  ]);
  return {
    order: OrderState[order?.state ?? 0],
    reason: order?.reason ?? "",
    ticket: ticket ? TicketState[ticket.state] : "NONE",
    authorization: authorization ? AuthorizationState[authorization.state] : "NONE",
  };
}

async function orNone<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

/** Polls the participants over gRPC until the order's saga stands exactly at `expected` (sagaStates), then returns it. */
export function sagaReaches(clients: MeshClients, orderId: string, expected: Awaited<ReturnType<typeof sagaStates>>) {
  return waitFor(
    async () => {
      const states = await sagaStates(clients, orderId).catch(() => undefined);
      return states && JSON.stringify(states) === JSON.stringify(expected) ? states : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 25, message: `order ${orderId} did not settle as ${JSON.stringify(expected)}` },
  ).catch(async (err: Error) => {
    // Say where it actually ended, not only that it did not end as expected.
    const actual = await sagaStates(clients, orderId).catch((e: Error) => e.message);
    throw new Error(`${err.message}; it is ${JSON.stringify(actual)}`);
  });
}

/** An APPROVED order of c-1001 whose ticket the restaurant then accepts, to be ready at `readyBy`: Delivery's input. */
export async function acceptedOrder(clients: MeshClients, readyBy: Date): Promise<string> {
  const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
  await sagaReaches(clients, orderId, {
    order: "APPROVED",
    reason: "",
    ticket: "AWAITING_ACCEPTANCE",
    authorization: "AUTHORIZED",
  });
  await clients.kitchen.acceptTicket({ orderId, readyBy: timestampFromDate(readyBy) });
  return orderId;
}

/** Where the v2 helpers deliver unless told otherwise. */
export const TEST_DELIVERY = {
  address: { street1: "1 Main St", street2: "Apt 4", city: "Oakland", postalCode: "94611" },
} as const;

export interface PlaceOrderV2Options {
  readonly restaurantId?: string;
  /** A fresh UUID unless given: a repeated key returns the first order. */
  readonly idempotencyKey?: string;
  readonly lineItems?: readonly { menuItemId: string; quantity: number; specialInstructions?: string }[];
  readonly delivery?: MessageInitShape<typeof DeliverySchema>;
}

/**
 * ftgo.order.v2 CreateOrder straight to Order: as placeOrderOverGrpc's order (2× m-1 + 1× m-3 at r-1, or
 * 1× m-10 at r-2), the first line asking the kitchen for "no peanuts", delivered to TEST_DELIVERY.
 */
export async function placeOrderOverGrpcV2(
  orders: Client<typeof OrderServiceV2>,
  consumerId: string,
  {
    restaurantId = "r-1",
    idempotencyKey = randomUUID(),
    lineItems,
    delivery = TEST_DELIVERY,
  }: PlaceOrderV2Options = {},
): Promise<OrderV2> {
  const lines =
    lineItems ??
    (restaurantId === "r-2"
      ? [{ menuItemId: "m-10", quantity: 1, specialInstructions: "no peanuts" }]
      : [
          { menuItemId: "m-1", quantity: 2, specialInstructions: "no peanuts" },
          { menuItemId: "m-3", quantity: 1 },
        ]);
  const { order } = await orders.createOrder({
    idempotencyKey,
    consumerId,
    restaurantId,
    lineItems: [...lines],
    delivery,
  });
  if (!order) throw new Error("CreateOrder answered without an order");
  return order;
}

/** Polls v2 GetOrder until the order is in one of `states`; returns the order as v2 shows it. */
export function orderV2Reaches(
  orders: Client<typeof OrderServiceV2>,
  orderId: string,
  states: ReadonlySet<OrderStateV2>,
  timeoutMs = 15_000,
) {
  return waitFor(
    async () => {
      const { order } = await orders.getOrder({ orderId });
      return order && states.has(order.state) ? order : undefined;
    },
    { timeoutMs, intervalMs: 25, message: `order ${orderId} did not reach ${[...states].map((s) => OrderStateV2[s])}` },
  );
}
