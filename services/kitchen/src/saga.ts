// Kitchen Service's part in the Create Order and Cancel Order sagas, as wiring: which message, in which saga
// mode, calls which step of steps.ts. Under choreography it reacts to other services' events and publishes its outcomes as events; under orchestration it handles the
// orchestrator's commands and replies with the same outcomes. Each handler runs inside one local
// transaction with the inbox record and the outbox rows it writes.
import { create } from "@bufbuild/protobuf";
import {
  CreditCardAuthorizationFailedSchema,
  CreditCardAuthorizedSchema,
} from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { ConsumerVerificationFailedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import {
  ApproveTicketSchema,
  CancelTicketSchema,
  type CreateTicket,
  CreateTicketSchema,
  RejectTicketSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/commands_pb.js";
import { TicketApprovedSchema, TicketRejectedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { OrderCancelRequestedSchema, OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  type Logger,
  type MessageContext,
  on,
  onCommand,
  replyingContext,
  type SagaMode,
  type Subscription,
} from "@ftgo/platform";
import { approveTicket, cancelTicket, createTicket, rejectTicket } from "./steps.js";
import type { KitchenStore } from "./store.js";

export interface KitchenSagaDeps {
  readonly store: KitchenStore;
  readonly log: Logger;
  readonly mode: SagaMode;
}

/** The messages Kitchen Service consumes in `mode`, and what each one does. */
export function kitchenSaga({ store, log, mode }: KitchenSagaDeps): Subscription[] {
  return mode === "orchestration" ? commandHandlers() : eventHandlers();

  /** Orchestration: each command answered with the outcome, also when an earlier message already caused it. */
  function commandHandlers(): Subscription[] {
    return [
      onCommand(CreateTicketSchema, (command, ctx) => {
        const ticket = createTicket(store, asNewOrder(command), replyingContext(ctx));
        log.info({ orderId: command.orderId, reason: ticket.reason || undefined }, "ticket created");
      }),
      onCommand(ApproveTicketSchema, (command, ctx) => {
        if (approveTicket(store, command.orderId, replyingContext(ctx))) {
          log.info({ orderId: command.orderId }, "ticket awaiting acceptance");
        } else ctx.reply(TicketApprovedSchema, { orderId: command.orderId }); // approved before: say so again
      }),
      onCommand(RejectTicketSchema, (command, ctx) => {
        if (rejectTicket(store, command.orderId, command.reason, replyingContext(ctx))) {
          log.info({ orderId: command.orderId, reason: command.reason }, "ticket rejected");
        } else ctx.reply(TicketRejectedSchema, { orderId: command.orderId, reason: command.reason }); // never cooked anyway
      }),
      onCommand(CancelTicketSchema, (command, ctx) => {
        const outcome = cancelTicket(store, command.orderId, replyingContext(ctx));
        log.info({ orderId: command.orderId, outcome }, "ticket cancellation");
      }),
    ];
  }

  function eventHandlers(): Subscription[] {
    return [
      // Create Order, step 3: validate the order and create its ticket (or say why not: a compensation trigger).
      on(OrderCreatedSchema, (event, ctx) => {
        const ticket = createTicket(store, event, ctx);
        log.info({ orderId: event.orderId, reason: ticket.reason || undefined }, "ticket created");
      }),
      // Step 5: the card is authorized, so the restaurant may now accept the ticket.
      on(CreditCardAuthorizedSchema, (event, ctx) => {
        if (approveTicket(store, event.orderId, ctx))
          log.info({ orderId: event.orderId }, "ticket awaiting acceptance");
      }),
      // Compensation of step 3: another step failed, so this ticket will never be cooked.
      on(ConsumerVerificationFailedSchema, (event, ctx) => reject(event.orderId, event.reason, ctx)),
      on(CreditCardAuthorizationFailedSchema, (event, ctx) => reject(event.orderId, event.reason, ctx)),

      // Cancel Order: cancel the ticket unless the restaurant has already accepted it.
      on(OrderCancelRequestedSchema, (event, ctx) => {
        const outcome = cancelTicket(store, event.orderId, ctx);
        log.info({ orderId: event.orderId, outcome }, "ticket cancellation");
      }),
    ];
  }

  function reject(orderId: string, reason: string, ctx: MessageContext) {
    if (rejectTicket(store, orderId, reason, ctx)) log.info({ orderId, reason }, "ticket rejected");
  }
}

/** The order a CreateTicket command describes, in the shape the ticket is created from. */
function asNewOrder(command: CreateTicket) {
  return create(OrderCreatedSchema, {
    orderId: command.orderId,
    restaurantId: command.restaurantId,
    lineItems: command.lineItems.map(({ menuItemId, name, quantity }) => ({ menuItemId, name, quantity })),
  });
}
