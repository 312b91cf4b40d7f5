// THE routing map: every route of the gateway, in one table. Each row says who may call it and what it
// becomes behind the gateway: one gRPC method with a declared request mapping (the router derives the
// handler), or a handler of its own for what is more than one call (composition, a stream, the gateway's
// own endpoints). The OpenAPI document is derived from the same rows, so the two cannot drift.
import type { DescMessage, DescMethod, JsonObject } from "@bufbuild/protobuf";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { GetOrderRequestSchema, OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  GetOrderRequestSchema as GetOrderRequestSchemaV2,
  OrderService as OrderServiceV2,
} from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { ASYNCAPI_ROUTE } from "./asyncapi.js";
import { type Access, publishKeys, signIn } from "./auth.js";
import type { Backends } from "./clients.js";
import { ORDER_DETAILS_CALLS } from "./compose.js";
import type { CacheConfig } from "./config.js";
import type { RouteContext } from "./context.js";
import type { Deprecation } from "./deprecation.js";
import { healthz, listServices, readyz } from "./health.js";
import { ORDERS_V1, ORDERS_V2, type OrderApi } from "./order-api.js";
import { orderEventsOf, orderEventsSchema } from "./sse.js";
import { getMobileOrder, orderDetailsOf } from "./views.js";

/** A JSON Schema fragment, as OpenAPI 3.1 embeds it. */
export type JsonSchema = Readonly<Record<string, unknown>>;

interface RouteBase {
  readonly method: "GET" | "POST";
  /** OpenAPI template: `/api/v1/orders/{orderId}`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: "auth" | "orders" | "orders v2" | "restaurants" | "mobile" | "admin" | "ops";
  readonly auth: Access;
  /** Deprecated, in favour of the successor: every answer says so, and so does the OpenAPI document. */
  readonly deprecated?: Deprecation;
  /** Only with the development sign-in on (DEV_SIGN_IN=1); otherwise neither served (404) nor documented. */
  readonly devOnly?: true;
  /** Statuses this route answers beyond every route's (openapi.ts), and why: `{ 409: "not APPROVED" }`. */
  readonly statuses?: Readonly<Record<number, string>>;
}

/** How a REST request becomes the gRPC request message (its protobuf JSON form). */
export interface RequestMapping {
  /** Path parameters copied into fields of the same name. */
  readonly path?: readonly string[];
  /** Query parameters accepted, copied into fields of the same name. */
  readonly query?: readonly string[];
  /** The body is the request message, less the fields the gateway sets itself. */
  readonly body?: boolean;
  /** The field that gets the caller's consumer id (an admin sets none: every consumer's). */
  readonly caller?: string;
  /** The field that gets the key of the Idempotency-Key header, which is then required (idempotency-key.ts). */
  readonly idempotencyKey?: string;
}

/** Which of the gateway's clients a route calls: a service of the registry, or Order's v2 API (`orderV2`). */
export type Target = Exclude<keyof Backends, "health" | "close">;

/** A route that is one gRPC call: the router translates the request, calls, and translates the answer. */
export interface GrpcRoute extends RouteBase {
  readonly kind: "grpc";
  readonly target: Target;
  readonly rpc: DescMethod;
  readonly request: RequestMapping;
  /** Before the call, the `orderId` path parameter must name an order the caller may see in this API (else 404). */
  readonly ownOrder?: OrderApi;
  /** Success status; default 200. */
  readonly status?: number;
  /** What the client sees of the response (its REST JSON form); default all of it. */
  readonly present?: (response: JsonObject) => JsonObject;
  readonly responseSchema?: JsonSchema;
  /** Served from the cache for the configured TTL, under this key. */
  readonly cache?: {
    readonly key: (params: Readonly<Record<string, string>>) => string;
    readonly ttl: keyof CacheConfig;
  };
}

/** A route with a handler of its own; `calls` names the gRPC methods it uses, for the reader and the docs. */
export interface HandlerRoute extends RouteBase {
  readonly kind: "handler";
  readonly calls: readonly string[];
  readonly handler: (ctx: RouteContext) => Promise<unknown>;
  /** The request message whose fields of the same names the path parameters become, with their limits. */
  readonly params?: DescMessage;
  readonly requestSchema?: JsonSchema;
  readonly responseSchema: JsonSchema;
  readonly contentType?: string;
}

export type Route = GrpcRoute | HandlerRoute;

/** The routes this gateway serves: all of them, less the development sign-in unless it is on. */
export function servedRoutes(routes: readonly Route[], devSignIn: boolean): readonly Route[] {
  return routes.filter((route) => devSignIn || !route.devOnly);
}

const orderSummary = (response: JsonObject) => {
  const order = response.order as JsonObject;
  return { orderId: order.orderId ?? "", state: order.state ?? "" };
};
const orderSummarySchema = ({ stateSchema }: OrderApi): JsonSchema => ({
  type: "object",
  required: ["orderId", "state"],
  properties: { orderId: { type: "string" }, state: { $ref: `#/components/schemas/${stateSchema.typeName}` } },
});
/** Why a cancel is refused when the order is the caller's: Order's FAILED_PRECONDITION, as 409. */
const NOT_APPROVED =
  "The order is not APPROVED (still pending, rejected, or already cancelled): only an approved order can be cancelled";
/** The v1 orders API is retired on the schedule ORDERS_V1_* configure, in favour of v2. */
const V1_DEPRECATED: Deprecation = { successor: ORDERS_V2.path, schedule: "ordersV1" };

export const ROUTES: readonly Route[] = [
  {
    kind: "handler",
    method: "POST",
    path: "/api/v1/auth/token",
    summary: "Development sign-in: a token for a consumer or an admin (only with DEV_SIGN_IN=1)",
    tag: "auth",
    auth: "public",
    devOnly: true,
    calls: [],
    handler: signIn,
    requestSchema: {
      oneOf: [
        {
          type: "object",
          additionalProperties: false,
          required: ["consumerId"],
          properties: { consumerId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", examples: ["c-1001"] } },
        },
        { type: "object", additionalProperties: false, required: ["role"], properties: { role: { const: "admin" } } },
      ],
    },
    responseSchema: { type: "object", required: ["accessToken"], properties: { accessToken: { type: "string" } } },
  },
  {
    kind: "handler",
    method: "GET",
    path: "/.well-known/jwks.json",
    summary: "The public keys the gateway's tokens verify with (JWK Set): the current signing key, then previous ones",
    tag: "auth",
    auth: "public",
    calls: [],
    handler: publishKeys,
    responseSchema: {
      type: "object",
      required: ["keys"],
      properties: {
        keys: {
          type: "array",
          items: {
            type: "object",
            required: ["kty", "crv", "x", "kid", "alg", "use"],
            properties: {
              kty: { const: "OKP" },
              crv: { const: "Ed25519" },
              x: { type: "string" },
              kid: { type: "string" },
              alg: { const: "EdDSA" },
              use: { const: "sig" },
            },
          },
        },
      },
    },
  },
  {
    kind: "grpc",
    method: "POST",
    path: "/api/v1/orders",
    summary: "Place an order: starts the Create Order saga and answers at once",
    tag: "orders",
    auth: "consumer-only",
    target: "order",
    rpc: OrderService.method.createOrder,
    request: { body: true, caller: "consumerId" },
    status: 202,
    present: orderSummary,
    responseSchema: orderSummarySchema(ORDERS_V1),
    deprecated: V1_DEPRECATED,
  },
  {
    kind: "grpc",
    method: "GET",
    path: "/api/v1/orders",
    summary: "The caller's orders, newest first",
    tag: "orders",
    auth: "consumer",
    target: "order",
    rpc: OrderService.method.listOrders,
    request: { caller: "consumerId", query: ["pageSize", "pageToken"] },
    deprecated: V1_DEPRECATED,
  },
  {
    kind: "handler",
    method: "GET",
    path: "/api/v1/orders/{orderId}",
    summary:
      "An order with its ticket, delivery, payment and points (API composition; missing parts listed in `unavailable`)",
    tag: "orders",
    auth: "consumer",
    calls: ORDER_DETAILS_CALLS,
    handler: orderDetailsOf(ORDERS_V1),
    params: GetOrderRequestSchema,
    responseSchema: { $ref: "#/components/schemas/OrderDetails" },
    deprecated: V1_DEPRECATED,
  },
  {
    kind: "grpc",
    method: "POST",
    path: "/api/v1/orders/{orderId}/cancel",
    summary: "Cancel an approved order: starts the Cancel Order saga",
    tag: "orders",
    auth: "consumer",
    target: "order",
    rpc: OrderService.method.cancelOrder,
    request: { path: ["orderId"] },
    ownOrder: ORDERS_V1,
    status: 202,
    statuses: { 409: NOT_APPROVED },
    present: orderSummary,
    responseSchema: orderSummarySchema(ORDERS_V1),
    deprecated: V1_DEPRECATED,
  },
  {
    kind: "handler",
    method: "GET",
    path: "/api/v1/orders/{orderId}/events",
    summary: "Server-Sent Events: the order now, then each change until it settles",
    tag: "orders",
    auth: "consumer",
    calls: ["OrderService.GetOrder", "OrderService.WatchOrder"],
    handler: orderEventsOf(ORDERS_V1),
    params: GetOrderRequestSchema,
    contentType: "text/event-stream",
    responseSchema: orderEventsSchema(ORDERS_V1),
    deprecated: V1_DEPRECATED,
  },
  {
    kind: "grpc",
    method: "POST",
    path: "/api/v2/orders",
    summary:
      "Place an order: starts the Create Order saga and answers at once. Safe to retry: a repeated " +
      "Idempotency-Key answers the order the key first created (202 either way) and starts nothing",
    tag: "orders v2",
    auth: "consumer-only",
    target: "orderV2",
    rpc: OrderServiceV2.method.createOrder,
    request: { body: true, caller: "consumerId", idempotencyKey: "idempotencyKey" },
    status: 202,
    present: orderSummary,
    responseSchema: orderSummarySchema(ORDERS_V2),
  },
  {
    kind: "grpc",
    method: "GET",
    path: "/api/v2/orders",
    summary: "The caller's orders, newest first",
    tag: "orders v2",
    auth: "consumer",
    target: "orderV2",
    rpc: OrderServiceV2.method.listOrders,
    request: { caller: "consumerId", query: ["pageSize", "pageToken"] },
  },
  {
    kind: "handler",
    method: "GET",
    path: "/api/v2/orders/{orderId}",
    summary:
      "An order with its ticket, delivery, payment and points (API composition; missing parts listed in `unavailable`)",
    tag: "orders v2",
    auth: "consumer",
    calls: ["ftgo.order.v2.OrderService.GetOrder", ...ORDER_DETAILS_CALLS.slice(1)],
    handler: orderDetailsOf(ORDERS_V2),
    params: GetOrderRequestSchemaV2,
    responseSchema: { $ref: "#/components/schemas/OrderDetailsV2" },
  },
  {
    kind: "grpc",
    method: "POST",
    path: "/api/v2/orders/{orderId}/cancel",
    summary: "Cancel an approved order: starts the Cancel Order saga",
    tag: "orders v2",
    auth: "consumer",
    target: "orderV2",
    rpc: OrderServiceV2.method.cancelOrder,
    request: { path: ["orderId"] },
    ownOrder: ORDERS_V2,
    status: 202,
    statuses: { 409: NOT_APPROVED },
    present: orderSummary,
    responseSchema: orderSummarySchema(ORDERS_V2),
  },
  {
    kind: "handler",
    method: "GET",
    path: "/api/v2/orders/{orderId}/events",
    summary: "Server-Sent Events: the order now, then each change until it settles",
    tag: "orders v2",
    auth: "consumer",
    calls: ["ftgo.order.v2.OrderService.GetOrder", "ftgo.order.v2.OrderService.WatchOrder"],
    handler: orderEventsOf(ORDERS_V2),
    params: GetOrderRequestSchemaV2,
    contentType: "text/event-stream",
    responseSchema: orderEventsSchema(ORDERS_V2),
  },
  {
    kind: "grpc",
    method: "GET",
    path: "/api/v1/restaurants/{restaurantId}/menu",
    summary: "A restaurant's menu (cached)",
    tag: "restaurants",
    auth: "public",
    target: "kitchen",
    rpc: KitchenService.method.getMenu,
    request: { path: ["restaurantId"] },
    cache: { key: ({ restaurantId = "" }) => `menu:${restaurantId}`, ttl: "menuTtlMs" },
  },
  {
    kind: "handler",
    method: "GET",
    path: "/mobile/v1/orders/{orderId}",
    summary: "Backend for the mobile app: an order's status, ETA, total and item count in one round trip",
    tag: "mobile",
    auth: "consumer",
    calls: ORDER_DETAILS_CALLS,
    handler: getMobileOrder,
    params: GetOrderRequestSchema,
    responseSchema: { $ref: "#/components/schemas/MobileOrder" },
  },
  {
    kind: "handler",
    method: "GET",
    path: "/api/v1/admin/services",
    summary: "The registry as the gateway sees it: each service's instances and their circuit breakers",
    tag: "admin",
    auth: "admin",
    calls: [],
    handler: listServices,
    responseSchema: { type: "object", additionalProperties: { type: "array", items: { type: "object" } } },
  },
  {
    kind: "handler",
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document, derived from the routing map (a UI at /docs)",
    tag: "ops",
    auth: "public",
    calls: [],
    handler: async ({ deps }) => deps.openapi,
    responseSchema: { type: "object" },
  },
  ASYNCAPI_ROUTE,
  {
    kind: "handler",
    method: "GET",
    path: "/healthz",
    summary: "Liveness: the gateway process answers",
    tag: "ops",
    auth: "public",
    calls: [],
    handler: healthz,
    responseSchema: { type: "object", properties: { status: { const: "ok" } } },
  },
  {
    kind: "handler",
    method: "GET",
    path: "/readyz",
    summary: "Readiness: 200 only when every service is discoverable and SERVING",
    tag: "ops",
    auth: "public",
    calls: ["grpc.health.v1.Health.Check"],
    handler: readyz,
    responseSchema: {
      type: "object",
      properties: {
        ready: { type: "boolean" },
        services: { type: "object" },
        degraded: { type: "object", description: "services that serve but need a person, and why" },
        error: { type: "object", description: "why readiness could not be checked (the registry cannot be read)" },
      },
    },
  },
];
