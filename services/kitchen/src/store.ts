// Kitchen Service's own database: restaurants, menus, tickets, their state history, the outbox and the
// processed-messages table. Persistence only: what the saga steps decide is in steps.ts.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type MenuItem,
  MenuItemSchema,
  type Restaurant,
  RestaurantSchema,
  type Ticket,
  TicketSchema,
  TicketState,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  type ChangeCodec,
  createChangeFeed,
  createOutbox,
  createStateMachine,
  type Database,
  type DatabaseLocation,
  money,
  type Outbox,
  openDatabase,
  type StateHistory,
  type Transitions,
  type Watch,
} from "@ftgo/platform";
import { MIGRATIONS, seedRestaurants, type TicketRow, type TicketStateName, toTicket } from "./schema.js";

export type { TicketStateName };

/** The ticket state machine: every change the code may make, and nothing else. */
export const TICKET_TRANSITIONS: Transitions<TicketStateName> = {
  // CREATE_PENDING → CANCELLED: a cancel that overtook CreditCardAuthorized (another stream) on its way here.
  CREATE_PENDING: ["AWAITING_ACCEPTANCE", "CREATE_REJECTED", "CANCELLED"],
  AWAITING_ACCEPTANCE: ["ACCEPTED", "CANCELLED"],
  ACCEPTED: [],
  CREATE_REJECTED: [],
  CANCELLED: [],
};

/** A ticket to insert: its order, restaurant, first state (with the reason, if rejected) and lines. */
export interface NewTicket {
  readonly orderId: string;
  readonly restaurantId: string;
  readonly state: TicketStateName;
  readonly reason: string;
  readonly lineItems: readonly { menuItemId: string; name: string; quantity: number }[];
}

/** One committed change of a ticket: the ticket as that change left it, and the state it left (none if new). */
export interface TicketChange {
  readonly ticket: Ticket;
  readonly from: TicketState | undefined;
}

/** A TicketChange as the change feed stores it: one byte for `from` (0: none, else the state + 1), then the ticket. */
const ticketChangeCodec: ChangeCodec<TicketChange> = {
  encode: ({ ticket, from }) =>
    Buffer.concat([Uint8Array.of(from === undefined ? 0 : from + 1), toBinary(TicketSchema, ticket)]),
  decode: (bytes) => ({
    from: bytes[0] ? ((bytes[0] - 1) as TicketState) : undefined,
    ticket: fromBinary(TicketSchema, bytes.subarray(1)),
  }),
};

/**
 * The persistence of Kitchen Service. Writes belong inside the handler's (or caller's) transaction; every
 * ticket change is also announced to WatchTickets once that transaction commits.
 */
export interface KitchenStore {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly history: StateHistory;
  findRestaurant(restaurantId: string): Restaurant | undefined;
  menuOf(restaurantId: string): MenuItem[];
  findTicket(orderId: string): Ticket | undefined;
  /** Inserts a ticket in its first state, recorded in the history as caused by `messageId`. */
  insertTicket(ticket: NewTicket, messageId?: string): Ticket;
  /** A guarded state change (see createStateMachine): false when the ticket was not in `from`. */
  transition(orderId: string, from: TicketStateName, to: TicketStateName, reason: string, messageId?: string): boolean;
  /**
   * WatchTickets' feed of one restaurant: its open tickets now (AWAITING_ACCEPTANCE, oldest first), then
   * every change of one of its tickets once that change has committed, in commit order, each exactly once,
   * until `signal` aborts.
   */
  watchTickets(restaurantId: string, signal: AbortSignal): Watch<Ticket[], TicketChange>;
  /** How many WatchTickets watchers listen now (to one restaurant, or to any): tests check none leaks. */
  ticketWatcherCount(restaurantId?: string): number;
  close(): void;
}

/** Opens the kitchen database at `file`, creating the schema and the seed restaurants on first start. */
export function openKitchenStore(
  where: string | DatabaseLocation,
  options: { partitions?: number } = {},
): KitchenStore {
  const db = openDatabase(where, MIGRATIONS);
  seedRestaurants(db);
  const outbox = createOutbox(db, options);
  const machine = createStateMachine(db, { entity: "ticket", table: "tickets", transitions: TICKET_TRANSITIONS });
  const history = machine.history;
  const restaurant = db.prepare<[string], { restaurant_id: string; name: string; open: number }>(
    "SELECT * FROM restaurants WHERE restaurant_id = ?",
  );
  const menu = db.prepare<[string], { menu_item_id: string; name: string; price_minor: number; currency: string }>(
    "SELECT * FROM menu_items WHERE restaurant_id = ? ORDER BY position, menu_item_id",
  );
  const ticket = db.prepare<[string], TicketRow>("SELECT * FROM tickets WHERE order_id = ?");
  // Oldest first by when each reached the queue: the history's seq orders that exactly (update_time is in ms).
  const openTickets = db.prepare<[string], TicketRow>(
    `SELECT t.* FROM tickets t
       JOIN state_transitions h ON h.entity = 'ticket' AND h.entity_id = t.order_id AND h.to_state = t.state
     WHERE t.restaurant_id = ? AND t.state = 'AWAITING_ACCEPTANCE' ORDER BY h.seq`,
  );
  // WatchTickets' change feed, keyed by restaurant: each change publishes the ticket it made, for watchers on
  // any instance.
  const feed = createChangeFeed(db, { name: "tickets", codec: ticketChangeCodec });
  const insert = db.prepare(
    `INSERT INTO tickets (order_id, restaurant_id, state, reason, line_items, create_time, update_time)
     VALUES (@orderId, @restaurantId, @state, @reason, @lineItems, @now, @now)`,
  );

  const findTicket = (orderId: string) => {
    const row = ticket.get(orderId);
    return row && toTicket(row);
  };
  /** A change that the restaurant's displays hear about once committed; read here, inside its transaction. */
  const changed = (orderId: string, from: TicketStateName | null) => {
    const now = findTicket(orderId) as Ticket;
    feed.publish(now.restaurantId, { ticket: now, from: from === null ? undefined : TicketState[from] });
  };

  return {
    db,
    outbox,
    history,
    findRestaurant(restaurantId) {
      const row = restaurant.get(restaurantId);
      return row && create(RestaurantSchema, { restaurantId: row.restaurant_id, name: row.name, open: row.open === 1 });
    },
    menuOf: (restaurantId) =>
      menu.all(restaurantId).map((row) =>
        create(MenuItemSchema, {
          menuItemId: row.menu_item_id,
          name: row.name,
          price: money(row.price_minor, row.currency),
        }),
      ),
    findTicket,
    insertTicket({ lineItems, ...fields }, messageId) {
      insert.run({ ...fields, lineItems: JSON.stringify(lineItems), now: Date.now() });
      history.record(fields.orderId, null, fields.state, messageId);
      changed(fields.orderId, null);
      return findTicket(fields.orderId) as Ticket;
    },
    transition(orderId, from, to, reason, messageId) {
      const moved = machine.transition(orderId, from, to, reason, messageId);
      if (moved) changed(orderId, from);
      return moved;
    },
    watchTickets(restaurantId, signal) {
      return feed.watch(restaurantId, signal, () => openTickets.all(restaurantId).map(toTicket));
    },
    ticketWatcherCount: (restaurantId) => feed.listenerCount(restaurantId),
    close() {
      feed.close();
      db.close();
    },
  };
}
