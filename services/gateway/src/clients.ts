import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { Health } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { createMeshClient, type Logger, type MeshClient, type Registry } from "@ftgo/platform";
import { BACKENDS, type Backend, type GatewayConfig } from "./config.js";

/**
 * The gateway's clients of the services behind it: discovered through the registry, each under its policy,
 * over mTLS with the gateway's certificate in the secure mode (config.tls).
 */
export interface Backends {
  readonly order: MeshClient<typeof OrderService>;
  /** Order's v2 API, served by the same instances as v1 (discovered, and under the policy, as "order"). */
  readonly orderV2: MeshClient<typeof OrderServiceV2>;
  readonly consumer: MeshClient<typeof ConsumerService>;
  readonly kitchen: MeshClient<typeof KitchenService>;
  readonly accounting: MeshClient<typeof AccountingService>;
  readonly delivery: MeshClient<typeof DeliveryService>;
  /** Loyalty, the Go service (go/cmd/loyalty): reached like the others, its language unknown to the gateway. */
  readonly loyalty: MeshClient<typeof LoyaltyService>;
  /** Each service's standard health check, reached the same way, for /readyz. */
  readonly health: Readonly<Record<Backend, MeshClient<typeof Health>>>;
  close(): void;
}

export function createBackends(config: GatewayConfig, registry: Registry, log: Logger): Backends {
  const client = <S extends Parameters<typeof createMeshClient>[0]>(service: S, target: Backend) =>
    createMeshClient(service, { target, registry, policy: config.policies[target], log, tls: config.tls });
  const health = Object.fromEntries(BACKENDS.map((name) => [name, client(Health, name)])) as Record<
    Backend,
    MeshClient<typeof Health>
  >;
  const backends = {
    order: client(OrderService, "order"),
    orderV2: client(OrderServiceV2, "order"),
    consumer: client(ConsumerService, "consumer"),
    kitchen: client(KitchenService, "kitchen"),
    accounting: client(AccountingService, "accounting"),
    delivery: client(DeliveryService, "delivery"),
    loyalty: client(LoyaltyService, "loyalty"),
  };
  return {
    ...backends,
    health,
    close() {
      for (const one of [...Object.values(backends), ...Object.values(health)]) one.close();
    },
  };
}
