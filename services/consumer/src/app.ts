import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
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
import { consumerSaga } from "./saga.js";
import { createConsumerService } from "./service.js";
import { openConsumerStore } from "./store.js";

export type ConsumerConfig = BaseConfig;

/** Consumer's configuration: only the common settings (PORT default 50052). */
export function loadConsumerConfig(env: Env): ConsumerConfig {
  return loadConfig(env, { service: "consumer", port: 50052 });
}

/** Starts Consumer Service: its database, its part in the sagas, its gRPC API. Used by main.ts and by tests. */
export async function startConsumer(config: ConsumerConfig, log: Logger): Promise<RunningService> {
  const store = openConsumerStore(databaseLocation(config, "consumer"), config);
  return startSagaService({
    config,
    log,
    store,
    subscriptions: consumerSaga({ store, log, mode: config.sagaMode }),
    services: () => [implement(ConsumerService, createConsumerService({ store }))],
  });
}
