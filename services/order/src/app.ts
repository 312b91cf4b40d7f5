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
  serveGrpc,
  startParticipant,
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

/**
 * Starts Order Service: database, saga participation (NATS, outbox relay, consumers), Kitchen client, gRPC server.
 * `stop()` undoes it in the order that loses nothing: stop taking calls and messages, let in-flight work
 * commit, publish what it wrote, drain NATS, close the database.
 */
export async function startOrder(config: OrderConfig, log: Logger): Promise<RunningService> {
  const store = openOrderStore(join(config.dataDir, "order.db"), config);
  const messaging = await startParticipant({
    config,
    log,
    db: store.db,
    outbox: store.outbox,
    subscriptions: orderSaga({ store, log }),
  });
  const kitchenTransport = createGrpcTransport({
    address: config.kitchenAddress,
    defaultTimeoutMs: config.kitchenTimeoutMs,
  });
  const kitchen = createGrpcClient(KitchenService, kitchenTransport);
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: [implement(OrderService, createOrderService({ store, kitchen, relay: messaging.relay, log }))],
  });
  log.info({ address: server.address, kitchen: config.kitchenAddress }, "order serving");
  return {
    address: server.address,
    port: server.port,
    async stop() {
      server.setServing(false);
      await messaging.stopConsuming();
      await server.close();
      await messaging.close();
      kitchenTransport.close();
      store.close();
    },
  };
}
