// Consumer Service's part in the Create Order saga (choreography). The handler runs inside one local
// transaction with the inbox record and the outbox row it writes.
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { type Logger, on, type Subscription } from "@ftgo/platform";
import type { ConsumerStore } from "./store.js";

export interface ConsumerSagaDeps {
  readonly store: ConsumerStore;
  readonly log: Logger;
}

/** The events Consumer Service consumes, and what each one does. */
export function consumerSaga({ store, log }: ConsumerSagaDeps): Subscription[] {
  return [
    // Create Order, step 2: verify that the consumer can place an order. A failure here is what the
    // other participants compensate on; Consumer itself changed nothing that needs undoing.
    on(OrderCreatedSchema, (event, ctx) => {
      const outcome = store.verifyConsumer(event.orderId, event.consumerId, ctx);
      log.info({ orderId: event.orderId, consumerId: event.consumerId, ...outcome }, "consumer verification");
    }),
  ];
}
