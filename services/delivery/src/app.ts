import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
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
import { createQuoteGatherer, type QuoteGatherer } from "./courier-quotes.js";
import { type CourierDispatcher, startCourierDispatcher } from "./dispatcher.js";
import { DEFAULT_MAX_QUOTES } from "./quote-rules.js";
import { deliverySaga } from "./saga.js";
import { createDeliveryService } from "./service.js";
import { openDeliveryStore } from "./store.js";

export interface DeliveryConfig extends BaseConfig {
  /** How long Delivery gathers courier quotes after publishing a request. COURIER_QUOTE_WINDOW_MS, default 400. */
  readonly courierQuoteWindowMs: number;
  /** First retry delay when no courier answered (doubling up to 8×). COURIER_RETRY_MS, default 5000. */
  readonly courierRetryMs: number;
  /** At most this many quotes per request, recorded and shown per delivery. COURIER_MAX_QUOTES, default 16. */
  readonly courierMaxQuotes: number;
}

/** Delivery's configuration (PORT default 50055) and how it finds couriers. */
export function loadDeliveryConfig(env: Env): DeliveryConfig {
  return loadConfig(env, { service: "delivery", port: 50055 }, (read) => ({
    courierQuoteWindowMs: read.int("COURIER_QUOTE_WINDOW_MS", 400, 1),
    courierRetryMs: read.int("COURIER_RETRY_MS", 5_000, 1),
    courierMaxQuotes: read.int("COURIER_MAX_QUOTES", DEFAULT_MAX_QUOTES, 1),
  }));
}

/**
 * Starts Delivery Service: its database, its NATS connection and registry entry, its gRPC API, the
 * consumer of its command channel (Kitchen's one-way ScheduleDelivery) and the courier dispatcher, which
 * assigns couriers to PENDING deliveries by publish/async responses.
 */
export async function startDelivery(config: DeliveryConfig, log: Logger): Promise<RunningService> {
  const store = openDeliveryStore(databaseLocation(config, "delivery"), {
    partitions: config.partitions,
    maxQuotes: config.courierMaxQuotes,
  });
  let gatherer: QuoteGatherer | undefined;
  let dispatcher: CourierDispatcher | undefined;
  return startSagaService({
    config,
    log,
    store,
    subscriptions: deliverySaga({ store, log, dispatcher: { kick: () => dispatcher?.kick() } }),
    services: ({ nc, relay }) => {
      gatherer = createQuoteGatherer({ nc, log, maxQuotes: config.courierMaxQuotes });
      dispatcher = startCourierDispatcher({
        store,
        gatherer,
        relay,
        log,
        windowMs: config.courierQuoteWindowMs,
        retryMs: config.courierRetryMs,
      });
      log.info(
        {
          windowMs: config.courierQuoteWindowMs,
          retryMs: config.courierRetryMs,
          maxQuotes: config.courierMaxQuotes,
          replySubject: gatherer.replySubject,
        },
        "dispatching couriers",
      );
      return [implement(DeliveryService, createDeliveryService({ store }))];
    },
    onStop: async () => {
      await dispatcher?.stop();
      gatherer?.close();
    },
  });
}
