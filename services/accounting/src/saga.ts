// Accounting Service's part in the Create Order and Cancel Order sagas, as wiring: which message, in which
// saga mode, calls which step of steps.ts. Under choreography it reacts to other services' events and
// publishes its outcomes as events; under orchestration it handles the orchestrator's commands and replies
// with the same outcomes. Each handler runs inside one local transaction with the inbox record and the
// outbox rows it writes.
import {
  AuthorizeCardSchema,
  CancelAuthorizationSchema,
  ReverseAuthorizationSchema,
} from "@ftgo/gen/ftgo/accounting/v1/commands_pb.js";
import { CreditCardAuthorizationReversedSchema } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { ConsumerVerificationFailedSchema, ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import {
  TicketCancelledSchema,
  TicketCreatedSchema,
  TicketCreationFailedSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  type Logger,
  type MessageContext,
  on,
  onCommand,
  replyingContext,
  type SagaMode,
  type Subscription,
} from "@ftgo/platform";
import {
  authorizeCard,
  cancelAuthorization,
  noteConsumerVerified,
  noteOrderCreated,
  noteTicketCreated,
  reverseAuthorization,
  voidAuthorization,
} from "./steps.js";
import type { AccountingStore } from "./store.js";

export interface AccountingSagaDeps {
  readonly store: AccountingStore;
  readonly log: Logger;
  readonly mode: SagaMode;
}

/** The messages Accounting Service consumes in `mode`, and what each one does. */
export function accountingSaga({ store, log, mode }: AccountingSagaDeps): Subscription[] {
  return mode === "orchestration" ? commandHandlers() : eventHandlers();

  /** Orchestration: each command answered with the outcome (the same events, as replies). */
  function commandHandlers(): Subscription[] {
    return [
      onCommand(AuthorizeCardSchema, (command, ctx) => {
        const { orderId, consumerId, amount } = command;
        logOutcome(orderId, authorizeCard(store, { orderId, consumerId, total: amount }, replyingContext(ctx)));
      }),
      onCommand(CancelAuthorizationSchema, (command, ctx) => {
        const refunded = voidAuthorization(store, command.orderId, command.reason, ctx);
        log.info({ orderId: command.orderId, refunded }, "authorization cancelled");
      }),
      onCommand(ReverseAuthorizationSchema, (command, ctx) => {
        if (reverseAuthorization(store, command.orderId, replyingContext(ctx))) {
          log.info({ orderId: command.orderId }, "authorization reversed");
        } else ctx.reply(CreditCardAuthorizationReversedSchema, { orderId: command.orderId }); // nothing (left) to refund
      }),
    ];
  }

  function eventHandlers(): Subscription[] {
    return [
      // Create Order, step 4: an authorization opens PENDING on OrderCreated, and the card is charged once
      // both TicketCreated and ConsumerVerified are in. The three come on three streams, in any order.
      on(OrderCreatedSchema, (event, ctx) => logOutcome(event.orderId, noteOrderCreated(store, event, ctx))),
      on(TicketCreatedSchema, (event, ctx) => logOutcome(event.orderId, noteTicketCreated(store, event.orderId, ctx))),
      on(ConsumerVerifiedSchema, (event, ctx) =>
        logOutcome(event.orderId, noteConsumerVerified(store, event.orderId, ctx)),
      ),

      // Compensation: a failed step before the charge cancels the pending authorization.
      on(ConsumerVerificationFailedSchema, (event, ctx) => cancel(event.orderId, event.reason, ctx)),
      on(TicketCreationFailedSchema, (event, ctx) => cancel(event.orderId, event.reason, ctx)),

      // Cancel Order: the ticket is cancelled, so the charge is reversed.
      on(TicketCancelledSchema, (event, ctx) => {
        if (reverseAuthorization(store, event.orderId, ctx)) {
          log.info({ orderId: event.orderId }, "authorization reversed");
        }
      }),
    ];
  }

  function cancel(orderId: string, reason: string, ctx: MessageContext) {
    if (cancelAuthorization(store, orderId, reason, ctx)) log.info({ orderId, reason }, "authorization cancelled");
  }

  function logOutcome(orderId: string, outcome: ReturnType<typeof authorizeCard>) {
    if (outcome !== "waiting") log.info({ orderId, outcome }, "card authorization");
  }
}
