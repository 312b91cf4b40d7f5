// Accounting Service's part in the Create Order and Cancel Order sagas (choreography). Each handler runs
// inside one local transaction with the inbox record and the outbox rows it writes.
import { ConsumerVerificationFailedSchema, ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import {
  TicketCancelledSchema,
  TicketCreatedSchema,
  TicketCreationFailedSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { type Logger, on, type Subscription } from "@ftgo/platform";
import type { AccountingStore } from "./store.js";

export interface AccountingSagaDeps {
  readonly store: AccountingStore;
  readonly log: Logger;
}

/** The events Accounting Service consumes, and what each one does. */
export function accountingSaga({ store, log }: AccountingSagaDeps): Subscription[] {
  return [
    // Create Order, step 4: an authorization opens PENDING on OrderCreated, and the card is charged once
    // both TicketCreated and ConsumerVerified are in. The three come on three streams, in any order.
    on(OrderCreatedSchema, (event, ctx) => store.openAuthorization(event, ctx)),
    on(TicketCreatedSchema, (event, ctx) => store.noteTicketCreated(event.orderId, ctx)),
    on(ConsumerVerifiedSchema, (event, ctx) => store.noteConsumerVerified(event.orderId, ctx)),

    // Compensation: a failed step before the charge cancels the pending authorization.
    on(ConsumerVerificationFailedSchema, (event, ctx) => cancelAuthorization(event.orderId, event.reason, ctx)),
    on(TicketCreationFailedSchema, (event, ctx) => cancelAuthorization(event.orderId, event.reason, ctx)),

    // Cancel Order: the ticket is cancelled, so the charge is reversed.
    on(TicketCancelledSchema, (event, ctx) => {
      if (store.reverseAuthorization(event.orderId, ctx))
        log.info({ orderId: event.orderId }, "authorization reversed");
    }),
  ];

  function cancelAuthorization(orderId: string, reason: string, ctx: Parameters<typeof store.cancelAuthorization>[2]) {
    if (store.cancelAuthorization(orderId, reason, ctx)) log.info({ orderId, reason }, "authorization cancelled");
  }
}
