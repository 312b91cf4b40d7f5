// Order Service's part in the Create Order and Cancel Order sagas (choreography), as wiring: which event
// calls which step of steps.ts. Each handler runs inside one local transaction with the inbox
// record and the outbox rows it writes (see @ftgo/platform messaging).
import {
  CreditCardAuthorizationFailedSchema,
  CreditCardAuthorizationReversedSchema,
  CreditCardAuthorizedSchema,
} from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { ConsumerVerificationFailedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { TicketCancellationRefusedSchema, TicketCreationFailedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { type Logger, type MessageContext, on, type Subscription } from "@ftgo/platform";
import { countEnd } from "./outcomes.js";
import { approveOrder, completeCancel, refuseCancel, rejectOrder } from "./steps.js";
import type { OrderStore } from "./store.js";

const MODE = "choreography";

export interface OrderSagaDeps {
  readonly store: OrderStore;
  readonly log: Logger;
}

/** The events Order Service consumes, and what each one does. */
export function orderSaga({ store, log }: OrderSagaDeps): Subscription[] {
  return [
    // Create Order, step 6: the card is authorized, so every earlier step has succeeded.
    on(CreditCardAuthorizedSchema, (event, ctx) => {
      const approved = approveOrder(store, event.orderId, ctx);
      if (countEnd(approved, MODE, { saga: "create_order", outcome: "approved" })) {
        log.info({ orderId: event.orderId }, "order approved");
      }
    }),

    // Compensation: any failed step rejects the order, with that step's reason. The other participants
    // undo their own steps on the same events; a second failure finds the order already REJECTED.
    on(ConsumerVerificationFailedSchema, (event, ctx) => reject(event.orderId, event.reason, ctx)),
    on(TicketCreationFailedSchema, (event, ctx) => reject(event.orderId, event.reason, ctx)),
    on(CreditCardAuthorizationFailedSchema, (event, ctx) => reject(event.orderId, event.reason, ctx)),

    // Cancel Order ends here: the ticket was cancelled and Accounting has reversed the charge…
    on(CreditCardAuthorizationReversedSchema, (event, ctx) => {
      const cancelled = completeCancel(store, event.orderId, ctx);
      if (countEnd(cancelled, MODE, { saga: "cancel_order", outcome: "cancelled" })) {
        log.info({ orderId: event.orderId }, "order cancelled");
      }
    }),
    // …or the restaurant had already accepted the ticket: the order stays APPROVED, with the reason.
    on(TicketCancellationRefusedSchema, (event, ctx) => {
      const refused = refuseCancel(store, event.orderId, event.reason, ctx);
      if (countEnd(refused, MODE, { saga: "cancel_order", outcome: "refused", reason: event.reason })) {
        log.info({ orderId: event.orderId, reason: event.reason }, "cancel refused, order stays approved");
      }
    }),
  ];

  function reject(orderId: string, reason: string, ctx: MessageContext) {
    const rejected = rejectOrder(store, orderId, reason, ctx);
    if (countEnd(rejected, MODE, { saga: "create_order", outcome: "rejected", reason })) {
      log.info({ orderId, reason }, "order rejected");
    }
  }
}
