import { join } from "node:path";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
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
import { consumerSaga } from "./saga.js";
import { createConsumerService } from "./service.js";
import { openConsumerStore } from "./store.js";

export type ConsumerConfig = BaseConfig;

/** Consumer's configuration: only the common settings (PORT default 50052). */
export function loadConsumerConfig(env: Env): ConsumerConfig {
  return loadConfig(env, { service: "consumer", port: 50052 });
}

/** Starts Consumer Service: database, saga participation (NATS, outbox relay, consumers), gRPC server. */
export async function startConsumer(config: ConsumerConfig, log: Logger): Promise<RunningService> {
  const store = openConsumerStore(join(config.dataDir, "consumer.db"), config);
  const messaging = await startParticipant({
    config,
    log,
    db: store.db,
    outbox: store.outbox,
    subscriptions: consumerSaga({ store, log }),
  });
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: [implement(ConsumerService, createConsumerService({ store }))],
  });
  log.info({ address: server.address }, "consumer serving");
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
