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
  startParticipant,
} from "@ftgo/platform";
import { kitchenSaga } from "./saga.js";
import { createKitchenService } from "./service.js";
import { openKitchenStore } from "./store.js";

export type KitchenConfig = BaseConfig;

/** Kitchen's configuration: only the common settings (PORT default 50053). */
export function loadKitchenConfig(env: Env): KitchenConfig {
  return loadConfig(env, { service: "kitchen", port: 50053 });
}

/**
 * Starts Kitchen Service: database, saga participation (NATS, outbox relay, consumers), gRPC server. `stop()` stops
 * taking calls and messages, lets in-flight work commit, publishes it, drains NATS, closes the database.
 */
export async function startKitchen(config: KitchenConfig, log: Logger): Promise<RunningService> {
  const store = openKitchenStore(join(config.dataDir, "kitchen.db"), config);
  const messaging = await startParticipant({
    config,
    log,
    db: store.db,
    outbox: store.outbox,
    subscriptions: kitchenSaga({ store, log }),
  });
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: [implement(KitchenService, createKitchenService({ store, relay: messaging.relay }))],
  });
  log.info({ address: server.address }, "kitchen serving");
  return {
    address: server.address,
    port: server.port,
    async stop() {
      server.setServing(false);
      await messaging.stopConsuming();
      await server.close();
      await messaging.close();
      store.close();
    },
  };
}
