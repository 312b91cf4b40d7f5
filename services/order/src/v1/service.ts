// ftgo.order.v1.OrderService, deprecated and still served: each handler notes its caller (deprecation.ts),
// maps the request onto the v2 model and the answer back (mapping.ts). Its behaviour is v1's as it was.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import type { Orders } from "../orders.js";
import type { NoteDeprecatedCall } from "./deprecation.js";
import { fromV1CreateOrder, toV1Order } from "./mapping.js";

/** The gRPC handlers of ftgo.order.v1.OrderService. */
export function createOrderServiceV1(orders: Orders, noteCall: NoteDeprecatedCall): ServiceImpl<typeof OrderService> {
  const note = (ctx: HandlerContext) => noteCall(`${ctx.method.parent.typeName}/${ctx.method.name}`, ctx.requestHeader);
  return {
    async createOrder(req, ctx) {
      note(ctx);
      return { order: toV1Order(await orders.placeOrder(fromV1CreateOrder(req))) };
    },
    getOrder(req, ctx) {
      note(ctx);
      return { order: toV1Order(orders.getOrder(req.orderId)) };
    },
    listOrders(req, ctx) {
      note(ctx);
      const page = orders.listOrders(req);
      return { orders: page.orders.map(toV1Order), nextPageToken: page.nextPageToken };
    },
    cancelOrder(req, ctx) {
      note(ctx);
      return { order: toV1Order(orders.cancelOrder(req.orderId)) };
    },
    async *watchOrder(req, ctx) {
      note(ctx);
      for await (const order of orders.watchOrder(req.orderId, ctx.signal)) yield { order: toV1Order(order) };
    },
  };
}
