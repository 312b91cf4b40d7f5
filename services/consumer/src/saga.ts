// Consumer Service's part in the Create Order saga, as wiring: which message, in which saga mode, calls
// the step of steps.ts. Under choreography it reacts to OrderCreated and
// publishes the outcome as an event; under orchestration it handles the VerifyConsumer command and
// replies with the same outcome. Each handler runs inside one local transaction with the inbox record
// and the outbox row it writes.
import { VerifyConsumerSchema } from "@ftgo/gen/ftgo/consumer/v1/commands_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { type Logger, on, onCommand, replyingContext, type SagaMode, type Subscription } from "@ftgo/platform";
import { verifyConsumer } from "./steps.js";
import type { ConsumerStore } from "./store.js";

export interface ConsumerSagaDeps {
  readonly store: ConsumerStore;
  readonly log: Logger;
  readonly mode: SagaMode;
}

/** The messages Consumer Service consumes in `mode`, and what each one does. */
export function consumerSaga({ store, log, mode }: ConsumerSagaDeps): Subscription[] {
  if (mode === "orchestration") {
    return [
      // Orchestrated step 1: the same check, answered to the orchestrator instead of announced.
      onCommand(VerifyConsumerSchema, (command, ctx) => {
        const { verified, reason } = verifyConsumer(store, command.orderId, command.consumerId, replyingContext(ctx));
        log.info(
          { orderId: command.orderId, consumerId: command.consumerId, verified, reason },
          "consumer verification",
        );
      }),
    ];
  }
  return [
    // Create Order, step 2: verify that the consumer can place an order. A failure here is what the
    // other participants compensate on; Consumer itself changed nothing that needs undoing.
    on(OrderCreatedSchema, (event, ctx) => {
      const { verified, reason } = verifyConsumer(store, event.orderId, event.consumerId, ctx);
      log.info({ orderId: event.orderId, consumerId: event.consumerId, verified, reason }, "consumer verification");
    }),
  ];
}
