// What a client or consumer compiled against release v1.0.0 carried: the descriptors, taken from the release
// image (proto/releases/v1.0.0.binpb), never from today's gen/; and, written down here as protoc-gen-es once
// wrote them, the shapes of the few messages the old-client tests use, so that they read fields by name.
// A shape is only a type: every encode and decode goes through the released descriptor.
import type { Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { loadReleasedContract } from "@ftgo/harness/released-contract.js";

/** The release the old code was built from. */
export const RELEASE = loadReleasedContract("1.0.0");

export type Money = Message<"ftgo.common.v1.Money"> & { currencyCode: string; minorUnits: bigint };

export type LineItemRequest = Message<"ftgo.order.v1.LineItemRequest"> & { menuItemId: string; quantity: number };

export type OrderLineItem = Message<"ftgo.order.v1.OrderLineItem"> & {
  menuItemId: string;
  name: string;
  quantity: number;
  price?: Money;
  total?: Money;
};

export type Order = Message<"ftgo.order.v1.Order"> & {
  orderId: string;
  consumerId: string;
  restaurantId: string;
  lineItems: OrderLineItem[];
  total?: Money;
  state: number;
  reason: string;
  createTime?: Timestamp;
  updateTime?: Timestamp;
  pricedFromLastKnownMenu: boolean;
};

type CreateOrderRequest = Message<"ftgo.order.v1.CreateOrderRequest"> & {
  consumerId: string;
  restaurantId: string;
  lineItems: LineItemRequest[];
};
type OrderResponse<T extends string> = Message<T> & { order?: Order };
type GetOrderRequest = Message<"ftgo.order.v1.GetOrderRequest"> & { orderId: string };
type ListOrdersRequest = Message<"ftgo.order.v1.ListOrdersRequest"> & {
  consumerId: string;
  pageSize: number;
  pageToken: string;
};
type ListOrdersResponse = Message<"ftgo.order.v1.ListOrdersResponse"> & { orders: Order[]; nextPageToken: string };

export const OrderSchema = RELEASE.message<Order>("ftgo.order.v1.Order");

/** ftgo.order.v1.OrderService as release v1.0.0 declared it: the three RPCs the old client uses. */
export const OrderService = RELEASE.service<{
  createOrder: {
    methodKind: "unary";
    input: GenMessage<CreateOrderRequest>;
    output: GenMessage<OrderResponse<"ftgo.order.v1.CreateOrderResponse">>;
  };
  getOrder: {
    methodKind: "unary";
    input: GenMessage<GetOrderRequest>;
    output: GenMessage<OrderResponse<"ftgo.order.v1.GetOrderResponse">>;
  };
  listOrders: {
    methodKind: "unary";
    input: GenMessage<ListOrdersRequest>;
    output: GenMessage<ListOrdersResponse>;
  };
}>("ftgo.order.v1.OrderService");

type Restaurant = Message<"ftgo.kitchen.v1.Restaurant"> & { restaurantId: string; name: string; open: boolean };
type MenuItem = Message<"ftgo.kitchen.v1.MenuItem"> & { menuItemId: string; name: string; price?: Money };
type GetMenuRequest = Message<"ftgo.kitchen.v1.GetMenuRequest"> & { restaurantId: string };
type GetMenuResponse = Message<"ftgo.kitchen.v1.GetMenuResponse"> & { restaurant?: Restaurant; menuItems: MenuItem[] };

/** ftgo.kitchen.v1.KitchenService as released: GetMenu. */
export const KitchenService = RELEASE.service<{
  getMenu: {
    methodKind: "unary";
    input: GenMessage<GetMenuRequest>;
    output: GenMessage<GetMenuResponse>;
  };
}>("ftgo.kitchen.v1.KitchenService");

type Consumer = Message<"ftgo.consumer.v1.Consumer"> & { consumerId: string; name: string; state: number };
type GetConsumerRequest = Message<"ftgo.consumer.v1.GetConsumerRequest"> & { consumerId: string };
type GetConsumerResponse = Message<"ftgo.consumer.v1.GetConsumerResponse"> & { consumer?: Consumer };

/** ftgo.consumer.v1.ConsumerService as released: GetConsumer. */
export const ConsumerService = RELEASE.service<{
  getConsumer: {
    methodKind: "unary";
    input: GenMessage<GetConsumerRequest>;
    output: GenMessage<GetConsumerResponse>;
  };
}>("ftgo.consumer.v1.ConsumerService");

/** The first event of the Create Order saga as release v1.0.0 declared it: no delivery yet. */
export type OrderCreated = Message<"ftgo.order.v1.OrderCreated"> & {
  orderId: string;
  consumerId: string;
  restaurantId: string;
  lineItems: OrderLineItem[];
  total?: Money;
};

export const OrderCreatedSchema = RELEASE.message<OrderCreated>("ftgo.order.v1.OrderCreated");
