// Kitchen Service's part in the Create Order and Cancel Order sagas (choreography). Each handler runs
// inside one local transaction with the inbox record and the outbox rows it writes.
import {
  CreditCardAuthorizationFailedSchema,
  CreditCardAuthorizedSchema,
} from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { ConsumerVerificationFailedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { OrderCancelRequestedSchema, OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { type Logger, on, type Subscription } from "@ftgo/platform";
import type { KitchenStore } from "./store.js";

export interface KitchenSagaDeps {
  readonly store: KitchenStore;
  readonly log: Logger;
}

/** The events Kitchen Service consumes, and what each one does. */
export function kitchenSaga({ store, log }: KitchenSagaDeps): Subscription[] {
  return [
    // Create Order, step 3: validate the order and create its ticket (or say why not: a compensation trigger).
    on(OrderCreatedSchema, (event, ctx) => {
      const ticket = store.createTicket(event, ctx);
      log.info({ orderId: event.orderId, reason: ticket.reason || undefined }, "ticket created");
    }),
    // Step 5: the card is authorized, so the restaurant may now accept the ticket.
    on(CreditCardAuthorizedSchema, (event, ctx) => {
      if (store.approveTicket(event.orderId, ctx)) log.info({ orderId: event.orderId }, "ticket awaiting acceptance");
    }),
    // Compensation of step 3: another step failed, so this ticket will never be cooked.
    on(ConsumerVerificationFailedSchema, (event, ctx) => rejectTicket(event.orderId, event.reason, ctx)),
    on(CreditCardAuthorizationFailedSchema, (event, ctx) => rejectTicket(event.orderId, event.reason, ctx)),

    // Cancel Order: cancel the ticket unless the restaurant has already accepted it.
    on(OrderCancelRequestedSchema, (event, ctx) => {
      const outcome = store.cancelTicket(event.orderId, ctx);
      log.info({ orderId: event.orderId, outcome }, "ticket cancellation");
    }),
  ];

  function rejectTicket(orderId: string, reason: string, ctx: Parameters<typeof store.rejectTicket>[2]) {
    if (store.rejectTicket(orderId, reason, ctx)) log.info({ orderId, reason }, "ticket rejected");
  }
}
