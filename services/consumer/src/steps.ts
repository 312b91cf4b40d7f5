// Consumer Service's saga step, and why it has no compensating transaction.
//
// A saga is a sequence of local transactions: each step updates data within one service only, in the one
// ACID transaction that also records the message that triggered it, and publishes a message when it
// completes; that message triggers the next step in the saga. Create Order's step 2 is Consumer's: "verify
// that the consumer can place an order" (`verifyConsumer`), answered with ConsumerVerified or
// ConsumerVerificationFailed.
//
// Sagas use compensating transactions to roll back changes when a later step fails. Consumer needs none:
// its step only reads the consumer and records the answer, so a later failure leaves nothing here to undo.
// Its failure is what the other participants compensate on. The rule that refuses is a named function
// below (`whyConsumerMayNotOrder`); saga.ts says which message calls the step, store.ts keeps the rows.
import { type Consumer, ConsumerState } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { ConsumerVerificationFailedSchema, ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { type MessageContext, sagaStep } from "@ftgo/platform";
import type { ConsumerStore, Verification } from "./store.js";

/**
 * Create Order step 2: may this consumer order? Records the answer and publishes ConsumerVerified, or
 * ConsumerVerificationFailed with the reason (which starts the compensations), in the handler's transaction.
 */
export const verifyConsumer = sagaStep(
  "Consumer.verifyConsumer",
  function verifyConsumer(
    store: ConsumerStore,
    orderId: string,
    consumerId: string,
    ctx: MessageContext,
  ): Verification {
    const reason = whyConsumerMayNotOrder(consumerId, store.findConsumer(consumerId));
    const verification = { orderId, consumerId, verified: reason === undefined, reason: reason ?? "" };
    store.recordVerification(verification);
    if (reason) ctx.publish(ConsumerVerificationFailedSchema, { orderId, consumerId, reason });
    else ctx.publish(ConsumerVerifiedSchema, { orderId, consumerId });
    return verification;
  },
);

/** The consumer rule of the seed: a known, active consumer may order. Why not, or undefined when it may. */
export function whyConsumerMayNotOrder(consumerId: string, consumer: Consumer | undefined): string | undefined {
  if (!consumer) return `consumer ${consumerId} not found`;
  if (consumer.state !== ConsumerState.ACTIVE) return `consumer ${consumerId} is suspended`;
  return undefined;
}
