import { join } from "node:path";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  type BaseConfig,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  serveGrpc,
} from "@ftgo/platform";
import { createKitchenService } from "./service.js";
import { openKitchenStore } from "./store.js";

export type KitchenConfig = BaseConfig;

/** Kitchen's configuration: only the common settings (PORT default 50053). */
export function loadKitchenConfig(env: Env): KitchenConfig {
  return loadConfig(env, { service: "kitchen", port: 50053 });
}

/** Starts Kitchen Service: its database, then its gRPC server. Used by main.ts and by tests. */
export async function startKitchen(config: KitchenConfig, log: Logger): Promise<RunningService> {
  const store = openKitchenStore(join(config.dataDir, "kitchen.db"));
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: [implement(KitchenService, createKitchenService({ store }))],
  });
  log.info({ address: server.address }, "kitchen serving");
  return {
    address: server.address,
    port: server.port,
    async stop() {
      await server.close();
      store.close();
    },
  };
}
