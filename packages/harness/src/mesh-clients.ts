import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { createGrpcClient, createGrpcTransport, type MeshTls } from "@ftgo/platform";

/** Where each service of a mesh listens. */
export interface MeshAddresses {
  readonly order: { address: string };
  readonly consumer: { address: string };
  readonly kitchen: { address: string };
  readonly accounting: { address: string };
  readonly delivery: { address: string };
}

/**
 * Typed clients of every service of a mesh, as an outside caller (grpcurl, the gateway) would use them; with
 * `tls` (a secure mesh), over mTLS as the identity it names (an operator's, say).
 */
export function meshClients(mesh: MeshAddresses, { tls }: { tls?: MeshTls } = {}) {
  const transport = (address: string) => createGrpcTransport({ address, tls });
  const transports = {
    order: transport(mesh.order.address),
    consumer: transport(mesh.consumer.address),
    kitchen: transport(mesh.kitchen.address),
    accounting: transport(mesh.accounting.address),
    delivery: transport(mesh.delivery.address),
  };
  return {
    order: createGrpcClient(OrderService, transports.order),
    consumer: createGrpcClient(ConsumerService, transports.consumer),
    kitchen: createGrpcClient(KitchenService, transports.kitchen),
    accounting: createGrpcClient(AccountingService, transports.accounting),
    delivery: createGrpcClient(DeliveryService, transports.delivery),
    close() {
      for (const transport of Object.values(transports)) transport.close();
    },
  };
}

export type MeshClients = ReturnType<typeof meshClients>;
