// The methods a fault may be set on, per service: its public API, from the contracts. AdminService's own
// are left out (a server never faults them), health and reflection too.
import type { DescService } from "@bufbuild/protobuf";
import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";

const APIS: Readonly<Record<string, readonly DescService[]>> = {
  order: [OrderService, OrderServiceV2],
  consumer: [ConsumerService],
  kitchen: [KitchenService],
  accounting: [AccountingService],
  delivery: [DeliveryService],
  loyalty: [LoyaltyService],
};

/** "*" (every method), then each method as a gRPC path: "/ftgo.kitchen.v1.KitchenService/GetMenu". */
export function methodsOf(service: string): string[] {
  const paths = (APIS[service] ?? []).flatMap((api) => api.methods.map((method) => `/${api.typeName}/${method.name}`));
  return paths.length > 0 ? ["*", ...paths] : [];
}
