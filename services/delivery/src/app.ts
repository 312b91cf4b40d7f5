import { join } from "node:path";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import {
  type BaseConfig,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  startSagaService,
} from "@ftgo/platform";
import { createDeliveryService } from "./service.js";
import { openDeliveryStore } from "./store.js";

export type DeliveryConfig = BaseConfig;

/** Delivery's configuration: only the common settings (PORT default 50055). */
export function loadDeliveryConfig(env: Env): DeliveryConfig {
  return loadConfig(env, { service: "delivery", port: 50055 });
}

/**
 * Starts Delivery Service: its database, its NATS connection and registry entry, its gRPC API. It consumes
 * nothing yet: deliveries are scheduled once restaurants accept tickets (the one-way notification to come).
 */
export async function startDelivery(config: DeliveryConfig, log: Logger): Promise<RunningService> {
  const store = openDeliveryStore(join(config.dataDir, "delivery.db"), config);
  return startSagaService({
    config,
    log,
    store,
    subscriptions: [],
    services: () => [implement(DeliveryService, createDeliveryService({ store }))],
  });
}
