// ftgo.order.v2.OrderService: the model's own words, so its handlers only pass requests through. What
// v2 adds over v1 lives in the model (orders.ts, idempotency.ts), where v1 calls cannot lose it.
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrderService } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { idempotencyKeyOf } from "../idempotency.js";
import type { Orders } from "../orders.js";

/** The gRPC handlers of ftgo.order.v2.OrderService. */
export function createOrderServiceV2(orders: Orders): ServiceImpl<typeof OrderService> {
  return {
    async createOrder(req) {
      const order = await orders.placeOrder({
        consumerId: req.consumerId,
        restaurantId: req.restaurantId,
        lineItems: req.lineItems,
        delivery: req.delivery,
        idempotency: idempotencyKeyOf(req),
      });
      return { order };
    },
    getOrder: (req) => ({ order: orders.getOrder(req.orderId) }),
    listOrders: (req) => orders.listOrders(req),
    cancelOrder: (req) => ({ order: orders.cancelOrder(req.orderId) }),
    async *watchOrder(req, ctx) {
      for await (const order of orders.watchOrder(req.orderId, ctx.signal)) yield { order };
    },
  };
}
