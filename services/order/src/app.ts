import { join } from "node:path";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  type BaseConfig,
  createGrpcClient,
  createGrpcTransport,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  startSagaService,
} from "@ftgo/platform";
import { orderSaga } from "./saga.js";
import { createOrderService } from "./service.js";
import { openOrderStore } from "./store.js";

export interface OrderConfig extends BaseConfig {
  /** Where Kitchen Service listens. KITCHEN_ADDRESS, default 127.0.0.1:50053. */
  readonly kitchenAddress: string;
  /** Deadline of each call to Kitchen. KITCHEN_TIMEOUT_MS, default 2000. */
  readonly kitchenTimeoutMs: number;
}

/** Order's configuration (PORT default 50051) and where to find Kitchen. */
export function loadOrderConfig(env: Env): OrderConfig {
  return loadConfig(env, { service: "order", port: 50051 }, (read) => ({
    kitchenAddress: read.string("KITCHEN_ADDRESS", "127.0.0.1:50053"),
    kitchenTimeoutMs: read.int("KITCHEN_TIMEOUT_MS", 2000, 1),
  }));
}

/** Starts Order Service: its database, its part in the sagas, its Kitchen client, its gRPC API. */
export async function startOrder(config: OrderConfig, log: Logger): Promise<RunningService> {
  const store = openOrderStore(join(config.dataDir, "order.db"), config);
  const kitchenTransport = createGrpcTransport({
    address: config.kitchenAddress,
    defaultTimeoutMs: config.kitchenTimeoutMs,
  });
  const kitchen = createGrpcClient(KitchenService, kitchenTransport);
  return startSagaService({
    config,
    log,
    store,
    subscriptions: orderSaga({ store, log }),
    services: ({ relay }) => [implement(OrderService, createOrderService({ store, kitchen, relay, log }))],
    onStop: () => kitchenTransport.close(),
  });
}
