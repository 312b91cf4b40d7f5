// THE table of the RPCs the gateway serves at /rpc/<package.Service>/<Method> (Connect, gRPC-Web and gRPC),
// one row per method of every service in the contracts, so a reader can audit who may call what: a served
// method says who it admits (the same `Access` as the REST routes) and which object-level check it gets;
// a withheld one says why it is not served. test/gateway-connect.test.ts fails when a method of gen/ts has
// no row, so a new RPC is not public until someone decides it should be.
import type { Access } from "../auth.js";
import { ORDERS_V1, ORDERS_V2, type OrderApi } from "../order-api.js";
import type { Target } from "../routes.js";

/**
 * The object-level check of a served method, the same as the REST routes make:
 * - `order`: the request's `orderId` names an order the caller may read (asked through `api`), else NOT_FOUND,
 *   exactly as REST answers another consumer's order;
 * - `consumer`: the request's `consumerId` is the caller's own (filled in when left empty); an admin may
 *   name anyone, or no one (every consumer's), and a consumer naming another gets PERMISSION_DENIED.
 */
export type Ownership = { readonly kind: "order"; readonly api: OrderApi } | { readonly kind: "consumer" };

export interface ServedRule {
  readonly served: true;
  /** The mesh client the call is forwarded through (clients.ts). */
  readonly target: Target;
  readonly access: Access;
  readonly owns?: Ownership;
}

export interface WithheldRule {
  readonly served: false;
  /** Why a client of the edge never gets this RPC: docs/gateway.md repeats it. */
  readonly why: string;
}

export type RpcRule = ServedRule | WithheldRule;

const open = (target: Target): ServedRule => ({ served: true, target, access: "public" });
const ownOrder = (target: Target, api: OrderApi = ORDERS_V1): ServedRule => ({
  served: true,
  target,
  access: "consumer",
  owns: { kind: "order", api },
});
const ownConsumer = (target: Target, access: Access = "consumer"): ServedRule => ({
  served: true,
  target,
  access,
  owns: { kind: "consumer" },
});
const withheld = (why: string): WithheldRule => ({ served: false, why });

const RESTAURANT_SIDE = withheld("the restaurant's side of the kitchen: the gateway issues no restaurant tokens");
const OPERATIONS = withheld(
  "operators' tools (faults, stats, messages, dead letters): on each service's own port, never the edge",
);
const INFRASTRUCTURE = withheld("infrastructure: each service answers it on its own port; /readyz sums it up");

/** Keyed `package.Service/Method`, as in the URL. */
export const RPC_RULES: Readonly<Record<string, RpcRule>> = {
  // The public catalog: anyone may read it, signed in or not.
  "ftgo.kitchen.v1.KitchenService/GetRestaurant": open("kitchen"),
  "ftgo.kitchen.v1.KitchenService/GetMenu": open("kitchen"),
  "ftgo.kitchen.v1.KitchenService/GetTicket": ownOrder("kitchen"),
  "ftgo.kitchen.v1.KitchenService/AcceptTicket": RESTAURANT_SIDE,
  "ftgo.kitchen.v1.KitchenService/WatchTickets": RESTAURANT_SIDE,

  // Orders, v1 (deprecated) and v2: as POST/GET /api/v{1,2}/orders…; an admin orders for nobody.
  "ftgo.order.v1.OrderService/CreateOrder": ownConsumer("order", "consumer-only"),
  "ftgo.order.v1.OrderService/GetOrder": ownOrder("order", ORDERS_V1),
  "ftgo.order.v1.OrderService/ListOrders": ownConsumer("order"),
  "ftgo.order.v1.OrderService/CancelOrder": ownOrder("order", ORDERS_V1),
  "ftgo.order.v1.OrderService/WatchOrder": ownOrder("order", ORDERS_V1),
  "ftgo.order.v2.OrderService/CreateOrder": ownConsumer("orderV2", "consumer-only"),
  "ftgo.order.v2.OrderService/GetOrder": ownOrder("orderV2", ORDERS_V2),
  "ftgo.order.v2.OrderService/ListOrders": ownConsumer("orderV2"),
  "ftgo.order.v2.OrderService/CancelOrder": ownOrder("orderV2", ORDERS_V2),
  "ftgo.order.v2.OrderService/WatchOrder": ownOrder("orderV2", ORDERS_V2),

  // The parts of an order's composed view, each readable on its own by the order's consumer.
  "ftgo.accounting.v1.AccountingService/GetAuthorization": ownOrder("accounting"),
  "ftgo.delivery.v1.DeliveryService/GetDelivery": ownOrder("delivery"),
  "ftgo.consumer.v1.ConsumerService/GetConsumer": ownConsumer("consumer"),

  // Loyalty, the Go service: a consumer's own points, and an order's (the points leg of its composed view).
  "ftgo.loyalty.v1.LoyaltyService/GetAccount": ownConsumer("loyalty"),
  "ftgo.loyalty.v1.LoyaltyService/GetOrderPoints": ownOrder("loyalty"),

  "ftgo.admin.v1.AdminService/SetFault": OPERATIONS,
  "ftgo.admin.v1.AdminService/ClearFaults": OPERATIONS,
  "ftgo.admin.v1.AdminService/ListFaults": OPERATIONS,
  "ftgo.admin.v1.AdminService/GetServerStats": OPERATIONS,
  "ftgo.admin.v1.AdminService/ListSentMessages": OPERATIONS,
  "ftgo.admin.v1.AdminService/ListDeadLetters": OPERATIONS,
  "ftgo.admin.v1.AdminService/ReplayDeadLetter": OPERATIONS,

  "grpc.health.v1.Health/Check": INFRASTRUCTURE,
  "grpc.health.v1.Health/Watch": INFRASTRUCTURE,
  "grpc.health.v1.Health/List": INFRASTRUCTURE,
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo": INFRASTRUCTURE,
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": INFRASTRUCTURE,
};
