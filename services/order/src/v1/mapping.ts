// ftgo.order.v1 as a view of the v2 model. Reading maps the other way from what v2 added: v1 sees none of
// it (the key, the delivery, the kitchen's notes), and since a v1 call never writes an order back whole,
// nothing it cannot see is lost. Creating through v1 takes the defaults docs/evolving-order.md lists:
// no idempotency key (v1 CreateOrder is not safe to repeat, and its clients never do), no delivery (the
// food goes as soon as possible to the consumer's address on file), no special instructions.
import { create } from "@bufbuild/protobuf";
import { type CreateOrderRequest, type Order, OrderSchema, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderState as OrderStateV2, type Order as OrderV2, PriceSource } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import type { PlaceOrder } from "../orders.js";

/** A v2 order as v1 shows it. */
export function toV1Order(order: OrderV2): Order {
  return create(OrderSchema, {
    orderId: order.orderId,
    consumerId: order.consumerId,
    restaurantId: order.restaurantId,
    lineItems: order.lineItems.map(({ menuItemId, name, quantity, price, total }) => ({
      menuItemId,
      name,
      quantity,
      price,
      total,
    })),
    total: order.total,
    // The two versions list the same states under the same names.
    state: OrderState[OrderStateV2[order.state] as keyof typeof OrderState],
    // v1's one reason meant either; at most one of v2's two is set, by the order's state.
    reason: order.rejectionReason || order.cancelRefusalReason,
    createTime: order.createTime,
    updateTime: order.updateTime,
    pricedFromLastKnownMenu: order.priceSource === PriceSource.LAST_KNOWN_MENU,
  });
}

/** A v1 CreateOrder in the model's words, with v1's defaults: no key, no delivery, no notes. */
export function fromV1CreateOrder(req: CreateOrderRequest): PlaceOrder {
  return { consumerId: req.consumerId, restaurantId: req.restaurantId, lineItems: req.lineItems };
}
