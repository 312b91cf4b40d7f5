import { join } from "node:path";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  type BaseConfig,
  createMeshClient,
  describePolicies,
  type Env,
  implement,
  type Logger,
  loadConfig,
  loadPolicyConfig,
  type MeshClient,
  type PolicyConfig,
  type RunningService,
  startSagaService,
} from "@ftgo/platform";
import { orderSaga } from "./saga.js";
import { createOrderService } from "./service.js";
import { openOrderStore } from "./store.js";

export interface OrderConfig extends BaseConfig {
  /**
   * How Order calls the services it depends on: deadline, bulkhead, circuit breaker, retry (KITCHEN_TIMEOUT_MS,
   * KITCHEN_BULKHEAD_LIMIT, KITCHEN_BREAKER_FAILURES, … — see the README's policy table).
   */
  readonly policies: PolicyConfig<"kitchen">;
}

/** Order's configuration (PORT default 50051) and its policies for calling Kitchen. */
export function loadOrderConfig(env: Env): OrderConfig {
  return loadConfig(env, { service: "order", port: 50051 }, (read) => ({
    policies: loadPolicyConfig(read, ["kitchen"]),
  }));
}

/**
 * Starts Order Service: its database, its part in the sagas, its gRPC API, and its client of Kitchen, which
 * finds Kitchen's instances through the service registry and calls them under Order's policies.
 */
export async function startOrder(config: OrderConfig, log: Logger): Promise<RunningService> {
  const store = openOrderStore(join(config.dataDir, "order.db"), config);
  let kitchen: MeshClient<typeof KitchenService> | undefined;
  return startSagaService({
    config,
    log,
    store,
    subscriptions: orderSaga({ store, log }),
    services: ({ relay, registry }) => {
      kitchen = createMeshClient(KitchenService, { target: "kitchen", registry, policy: config.policies.kitchen, log });
      log.info({ policies: describePolicies(config.policies) }, "calling other services with these policies");
      return [implement(OrderService, createOrderService({ store, kitchen, relay, log }))];
    },
    onStop: () => kitchen?.close(),
  });
}
