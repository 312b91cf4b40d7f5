// Kitchen Service's saga steps, each beside its compensating transaction.
//
// A saga is a sequence of local transactions: each step updates data within Kitchen Service only, in the
// one ACID transaction that also records the message that triggered it, and publishes a message when it
// completes; that message triggers the next step in the saga. Kitchen has two steps of Create Order:
// step 3, "validate order details and create a Ticket in the CREATE_PENDING state" (`createTicket`), and
// step 5, "change the state of the Ticket to AWAITING_ACCEPTANCE" (`approveTicket`).
//
// Sagas use compensating transactions to roll back changes: suppose a later transaction of the saga fails
// (the card is declined); the effects of the earlier ones must be undone. Step 3's compensation is
// `rejectTicket`: the ticket goes to CREATE_REJECTED and will never be cooked. Cancel Order undoes a
// finished saga with `cancelTicket`, which is refused once the restaurant has accepted the ticket. The
// rules are named functions below (`whyKitchenCannotTake`, `whyTicketCannotBeCancelled`); saga.ts says
// which message calls which step, and store.ts only keeps the rows.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { ScheduleDeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import {
  TicketAcceptedSchema,
  TicketApprovedSchema,
  TicketCancellationRefusedSchema,
  TicketCancelledSchema,
  TicketCreatedSchema,
  TicketCreationFailedSchema,
  TicketRejectedSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { type MenuItem, type Restaurant, type Ticket, TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import type { OrderCreated } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { FailedPreconditionError, type MessageContext, NotFoundError, sagaStep } from "@ftgo/platform";
import type { KitchenStore } from "./store.js";

/** Create Order step 3: validate the order and create its ticket CREATE_PENDING, or CREATE_REJECTED and say why. */
export const createTicket = sagaStep(
  "Kitchen.createTicket",
  function createTicket(store: KitchenStore, order: OrderCreated, ctx: MessageContext): Ticket {
    // A failure elsewhere can overtake OrderCreated (it travels on another stream): the ticket was then
    // already rejected, and an order the saga has given up on must not become a ticket to cook.
    const existing = store.findTicket(order.orderId);
    if (existing) return existing;
    const { orderId, restaurantId } = order;
    const lineItems = order.lineItems.map(({ menuItemId, name, quantity }) => ({ menuItemId, name, quantity }));
    const problem = whyKitchenCannotTake(order, store.findRestaurant(restaurantId), store.menuOf(restaurantId));
    const state = problem ? "CREATE_REJECTED" : "CREATE_PENDING";
    const ticket = store.insertTicket(
      { orderId, restaurantId, state, reason: problem ?? "", lineItems },
      ctx.messageId,
    );
    if (problem) ctx.publish(TicketCreationFailedSchema, { orderId, reason: problem });
    else ctx.publish(TicketCreatedSchema, { orderId, restaurantId });
    return ticket;
  },
);

/** Compensation of step 3: another step failed, so the ticket will never be cooked (CREATE_REJECTED). */
export const rejectTicket = sagaStep(
  "Kitchen.rejectTicket",
  function rejectTicket(store: KitchenStore, orderId: string, reason: string, ctx: MessageContext): boolean {
    if (!store.findTicket(orderId)) {
      // The failure overtook OrderCreated: remember the rejection so that OrderCreated finds it.
      store.insertTicket({ orderId, restaurantId: "", state: "CREATE_REJECTED", reason, lineItems: [] }, ctx.messageId);
    } else if (!store.transition(orderId, "CREATE_PENDING", "CREATE_REJECTED", reason, ctx.messageId)) {
      return false;
    }
    ctx.publish(TicketRejectedSchema, { orderId, reason });
    return true;
  },
  { compensation: true },
);

/** Create Order step 5: the card is authorized, so the restaurant may now accept the ticket. */
export const approveTicket = sagaStep(
  "Kitchen.approveTicket",
  function approveTicket(store: KitchenStore, orderId: string, ctx: MessageContext): boolean {
    if (!store.transition(orderId, "CREATE_PENDING", "AWAITING_ACCEPTANCE", "", ctx.messageId)) return false;
    ctx.publish(TicketApprovedSchema, { orderId });
    return true;
  },
);

/** Cancel Order's compensation of step 3: the ticket is CANCELLED, or the cancel is refused with the reason. */
export const cancelTicket = sagaStep(
  "Kitchen.cancelTicket",
  function cancelTicket(store: KitchenStore, orderId: string, ctx: MessageContext): "cancelled" | "refused" {
    const cancelled = (from: "AWAITING_ACCEPTANCE" | "CREATE_PENDING") =>
      store.transition(orderId, from, "CANCELLED", "order cancelled", ctx.messageId);
    if (cancelled("AWAITING_ACCEPTANCE") || cancelled("CREATE_PENDING")) {
      ctx.publish(TicketCancelledSchema, { orderId });
      return "cancelled";
    }
    ctx.publish(TicketCancellationRefusedSchema, {
      orderId,
      reason: whyTicketCannotBeCancelled(store.findTicket(orderId)),
    });
    return "refused";
  },
  { compensation: true },
);

/** The kitchen's validation of a new order: why it cannot take it, or undefined when it can. */
export function whyKitchenCannotTake(
  order: Pick<OrderCreated, "restaurantId" | "lineItems">,
  restaurant: Restaurant | undefined,
  menu: readonly MenuItem[],
): string | undefined {
  if (!restaurant) return `restaurant ${order.restaurantId} not found`;
  if (!restaurant.open) return `restaurant ${order.restaurantId} is closed`;
  const onMenu = new Set(menu.map((item) => item.menuItemId));
  const missing = order.lineItems.find((line) => !onMenu.has(line.menuItemId));
  if (missing) return `menu item ${missing.menuItemId} is not on the menu of restaurant ${order.restaurantId}`;
  return undefined;
}

/** Why a ticket that could not be cancelled stays as it is: the restaurant is cooking it, or it never was. */
export function whyTicketCannotBeCancelled(ticket: Ticket | undefined): string {
  if (ticket?.state === TicketState.ACCEPTED) return "the restaurant has accepted the ticket";
  return `the ticket is ${ticket ? TicketState[ticket.state] : "unknown"}`;
}

/**
 * Not a saga step but what the saga left the restaurant to do: it accepts the ticket (AWAITING_ACCEPTANCE →
 * ACCEPTED), publishing TicketAccepted and sending Delivery the one-way command ScheduleDelivery (no reply
 * expected), in one transaction. Accepting again answers the accepted ticket; any other state is refused.
 */
export function acceptTicket(store: KitchenStore, orderId: string, requestId?: string, readyBy?: Timestamp): Ticket {
  return store.db.transaction(() => {
    const current = store.findTicket(orderId);
    if (!current) throw new NotFoundError(`no ticket for order ${orderId}`);
    if (current.state === TicketState.ACCEPTED) return current;
    if (!store.transition(orderId, "AWAITING_ACCEPTANCE", "ACCEPTED", "")) {
      throw new FailedPreconditionError(
        `ticket of order ${orderId} is ${TicketState[current.state]}: only a ticket AWAITING_ACCEPTANCE can be accepted`,
      );
    }
    const { restaurantId } = current;
    store.outbox.append(TicketAcceptedSchema, { orderId, restaurantId }, { correlationId: orderId, requestId });
    store.outbox.send(
      ScheduleDeliverySchema,
      { orderId, restaurantId, readyBy },
      { correlationId: orderId, requestId },
    );
    return store.findTicket(orderId) as Ticket;
  })();
}
