import { join } from "node:path";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import {
  type BaseConfig,
  type Env,
  implement,
  type Logger,
  loadConfig,
  type RunningService,
  serveGrpc,
} from "@ftgo/platform";
import { createDeliveryService } from "./service.js";
import { openDeliveryStore } from "./store.js";

export type DeliveryConfig = BaseConfig;

/** Delivery's configuration: only the common settings (PORT default 50055). */
export function loadDeliveryConfig(env: Env): DeliveryConfig {
  return loadConfig(env, { service: "delivery", port: 50055 });
}

/** Starts Delivery Service: its database, then its gRPC server. Used by main.ts and by tests. */
export async function startDelivery(config: DeliveryConfig, log: Logger): Promise<RunningService> {
  const store = openDeliveryStore(join(config.dataDir, "delivery.db"));
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: [implement(DeliveryService, createDeliveryService({ store }))],
  });
  log.info({ address: server.address }, "delivery serving");
  return {
    address: server.address,
    port: server.port,
    async stop() {
      await server.close();
      store.close();
    },
  };
}
