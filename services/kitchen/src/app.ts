import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  type BaseConfig,
  databaseLocation,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  startSagaService,
} from "@ftgo/platform";
import { kitchenSaga } from "./saga.js";
import { createKitchenService } from "./service.js";
import { openKitchenStore } from "./store.js";

export type KitchenConfig = BaseConfig;

/** Kitchen's configuration: only the common settings (PORT default 50053). */
export function loadKitchenConfig(env: Env): KitchenConfig {
  return loadConfig(env, { service: "kitchen", port: 50053 });
}

/** Starts Kitchen Service: its database, its part in the sagas, its gRPC API. Used by main.ts and by tests. */
export async function startKitchen(config: KitchenConfig, log: Logger): Promise<RunningService> {
  const store = openKitchenStore(databaseLocation(config, "kitchen"), config);
  return startSagaService({
    config,
    log,
    store,
    subscriptions: kitchenSaga({ store, log, mode: config.sagaMode }),
    services: ({ relay }) => [implement(KitchenService, createKitchenService({ store, relay }))],
  });
}
