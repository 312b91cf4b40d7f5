import type { ServiceImpl } from "@connectrpc/connect";
import { type KitchenService, TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { currentCall, NotFoundError, type OutboxRelay } from "@ftgo/platform";
import { acceptTicket } from "./steps.js";
import type { KitchenStore, TicketChange } from "./store.js";

export interface KitchenDeps {
  readonly store: KitchenStore;
  /** Wakes the outbox relay after a commit that wrote messages. */
  readonly relay: Pick<OutboxRelay, "kick">;
}

/**
 * The gRPC handlers of Kitchen Service: reads of restaurants, menus and tickets; a restaurant accepting a
 * ticket; and the live ticket queue its kitchen display shows (WatchTickets).
 */
export function createKitchenService({ store, relay }: KitchenDeps): ServiceImpl<typeof KitchenService> {
  const restaurantOrThrow = (restaurantId: string) => {
    const restaurant = store.findRestaurant(restaurantId);
    if (!restaurant) throw new NotFoundError(`restaurant ${restaurantId} not found`);
    return restaurant;
  };
  return {
    getRestaurant(req) {
      return { restaurant: restaurantOrThrow(req.restaurantId) };
    },
    getMenu(req) {
      const restaurant = restaurantOrThrow(req.restaurantId);
      return { restaurant, menuItems: store.menuOf(restaurant.restaurantId) };
    },
    getTicket(req) {
      const ticket = store.findTicket(req.orderId);
      if (!ticket) throw new NotFoundError(`no ticket for order ${req.orderId}`);
      return { ticket };
    },
    acceptTicket(req) {
      const ticket = acceptTicket(store, req.orderId, currentCall()?.requestId, req.readyBy);
      relay.kick();
      return { ticket };
    },

    async *watchTickets(req, ctx) {
      const { restaurantId } = restaurantOrThrow(req.restaurantId);
      // The feed listens before it reads the queue, and stops listening when the call ends (ctx.signal).
      const watch = store.watchTickets(restaurantId, ctx.signal);
      yield { event: { case: "openTickets", value: { tickets: watch.current } } };
      for await (const change of watch.changes) {
        if (changesTheQueue(change)) yield { event: { case: "ticketChanged", value: change.ticket } };
      }
    },
  };
}

/**
 * A display shows the tickets the restaurant can act on (AWAITING_ACCEPTANCE); a change matters to it when a
 * ticket joins that queue or leaves it. A ticket created, rejected or cancelled while still CREATE_PENDING
 * (the card not yet authorized) was never on the display, so it never appears there.
 */
function changesTheQueue({ ticket, from }: TicketChange): boolean {
  return ticket.state === TicketState.AWAITING_ACCEPTANCE || from === TicketState.AWAITING_ACCEPTANCE;
}
