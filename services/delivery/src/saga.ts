// Delivery Service's part in the order's life after the restaurant accepts it: Kitchen's ScheduleDelivery
// arrives on Delivery's point-to-point command channel as a one-way notification — Kitchen expects no
// reply, and none is sent; GetDelivery shows the outcome. The handler runs inside one local transaction
// with the inbox record, so it only records the delivery PENDING; finding a courier takes real time on
// the network and is the dispatcher's job, after the commit (dispatcher.ts).
import { ScheduleDeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import { type Logger, onCommand, type Subscription } from "@ftgo/platform";
import type { DeliveryStore } from "./store.js";

export interface DeliverySagaDeps {
  readonly store: DeliveryStore;
  readonly log: Logger;
  /** Woken after a delivery was recorded, to find its courier at once rather than at its next poll. */
  readonly dispatcher?: { kick(): void };
}

/** The commands Delivery Service consumes, and what each one does. */
export function deliverySaga({ store, log, dispatcher }: DeliverySagaDeps): Subscription[] {
  return [
    // One-way notification from Kitchen (the ticket was accepted): schedule the delivery, reply nothing.
    onCommand(ScheduleDeliverySchema, (command, ctx) => {
      if (store.scheduleDelivery(command, ctx)) {
        log.info(
          { orderId: command.orderId, restaurantId: command.restaurantId },
          "delivery scheduled, finding a courier",
        );
        dispatcher?.kick(); // acts after this transaction commits
      } else {
        log.info({ orderId: command.orderId }, "delivery already scheduled; command ignored");
      }
    }),
  ];
}
