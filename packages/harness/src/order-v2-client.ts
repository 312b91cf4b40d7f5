// A client of ftgo.order.v2.OrderService for a mesh's Order, beside the v1 one meshClients holds: the
// gateway and the older tests speak v1, the tests of v2 open this next to it.
import type { Client } from "@connectrpc/connect";
import { OrderService } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";

export interface OrderV2Client {
  readonly orders: Client<typeof OrderService>;
  close(): void;
}

/** Opens its own connection to the Order Service at `address` ("host:port"); close() closes it. */
export function orderV2Client(address: string): OrderV2Client {
  const transport = createGrpcTransport({ address });
  return { orders: createGrpcClient(OrderService, transport), close: () => transport.close() };
}
