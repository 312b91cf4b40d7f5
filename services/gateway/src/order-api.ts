// The versions of the orders API the gateway serves, /api/v1/orders… (deprecated) and /api/v2/orders…, as
// the handlers of its own need them: composition, the event stream and the ownership check read and watch
// an order through the version the client called, and show it in that version's REST form. Both go to the
// same Order instances and the same store; only the contract differs. The one-call routes need none of
// this: their rows name the RPC, of whichever version.
import type { DescEnum, DescMessage, JsonObject } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import { OrderSchema, OrderStateSchema } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  OrderSchema as OrderSchemaV2,
  OrderStateSchema as OrderStateSchemaV2,
} from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import type { Backends } from "./clients.js";
import { toRest } from "./translate.js";

export const ORDER_API_VERSIONS = ["v1", "v2"] as const;
export type OrderApiVersion = (typeof ORDER_API_VERSIONS)[number];

export interface OrderApi {
  readonly version: OrderApiVersion;
  /** `/api/v2/orders`: where the version's routes live. */
  readonly path: string;
  readonly orderSchema: DescMessage;
  readonly stateSchema: DescEnum;
  /** The order in this version's REST form; undefined when Order answers without one. */
  getOrder(backends: Backends, orderId: string, options: CallOptions): Promise<JsonObject | undefined>;
  /** The order now, then after each change, in this version's REST form, until it settles or the call ends. */
  watchOrder(backends: Backends, orderId: string, options: CallOptions): AsyncIterable<JsonObject>;
}

export const ORDERS_V1: OrderApi = {
  version: "v1",
  path: "/api/v1/orders",
  orderSchema: OrderSchema,
  stateSchema: OrderStateSchema,
  async getOrder(backends, orderId, options) {
    const { order } = await backends.order.getOrder({ orderId }, options);
    return order && toRest(OrderSchema, order);
  },
  async *watchOrder(backends, orderId, options) {
    for await (const { order } of backends.order.watchOrder({ orderId }, options)) {
      if (order) yield toRest(OrderSchema, order);
    }
  },
};

export const ORDERS_V2: OrderApi = {
  version: "v2",
  path: "/api/v2/orders",
  orderSchema: OrderSchemaV2,
  stateSchema: OrderStateSchemaV2,
  async getOrder(backends, orderId, options) {
    const { order } = await backends.orderV2.getOrder({ orderId }, options);
    return order && toRest(OrderSchemaV2, order);
  },
  async *watchOrder(backends, orderId, options) {
    for await (const { order } of backends.orderV2.watchOrder({ orderId }, options)) {
      if (order) yield toRest(OrderSchemaV2, order);
    }
  },
};

export const ORDER_APIS: readonly OrderApi[] = [ORDERS_V1, ORDERS_V2];
