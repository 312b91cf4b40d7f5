import type { ServiceImpl } from "@connectrpc/connect";
import type { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { currentCall, NotFoundError, type OutboxRelay, requireField } from "@ftgo/platform";
import type { KitchenStore } from "./store.js";

export interface KitchenDeps {
  readonly store: KitchenStore;
  /** Wakes the outbox relay after a commit that wrote messages. */
  readonly relay: Pick<OutboxRelay, "kick">;
}

/** The gRPC handlers of Kitchen Service: reads of restaurants, menus and tickets; a restaurant accepting a ticket. */
export function createKitchenService({ store, relay }: KitchenDeps): ServiceImpl<typeof KitchenService> {
  const restaurantOrThrow = (restaurantId: string) => {
    const restaurant = store.findRestaurant(requireField(restaurantId, "restaurant_id"));
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
      const ticket = store.findTicket(requireField(req.orderId, "order_id"));
      if (!ticket) throw new NotFoundError(`no ticket for order ${req.orderId}`);
      return { ticket };
    },
    acceptTicket(req) {
      const ticket = store.acceptTicket(requireField(req.orderId, "order_id"), currentCall()?.requestId);
      relay.kick();
      return { ticket };
    },
  };
}
