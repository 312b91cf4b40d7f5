import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
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
import {
  type MenuItem,
  MenuItemSchema,
  type Restaurant,
  RestaurantSchema,
  type Ticket,
  TicketSchema,
  TicketState,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import type { OrderCreated } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  createChangeFeed,
  createOutbox,
  createStateMachine,
  type Database,
  DEFAULT_CURRENCY,
  FailedPreconditionError,
  type MessageContext,
  money,
  NotFoundError,
  type Outbox,
  openDatabase,
  type StateHistory,
  type Transitions,
  type Watch,
} from "@ftgo/platform";
import { SEED_RESTAURANTS } from "./seed.js";

const MIGRATIONS = [
  `CREATE TABLE restaurants (
     restaurant_id TEXT PRIMARY KEY,
     name          TEXT NOT NULL,
     open          INTEGER NOT NULL
   );
   CREATE TABLE menu_items (
     menu_item_id  TEXT PRIMARY KEY,
     restaurant_id TEXT NOT NULL REFERENCES restaurants (restaurant_id),
     position      INTEGER NOT NULL,
     name          TEXT NOT NULL,
     price_minor   INTEGER NOT NULL CHECK (price_minor >= 0),
     currency      TEXT NOT NULL
   );
   CREATE TABLE tickets (
     order_id      TEXT PRIMARY KEY,
     restaurant_id TEXT NOT NULL,
     state         TEXT NOT NULL,
     reason        TEXT NOT NULL DEFAULT '',
     line_items    TEXT NOT NULL,
     create_time   INTEGER NOT NULL,
     update_time   INTEGER NOT NULL
   );`,
];

type StateName = keyof typeof TicketState;

/** The ticket state machine: every change the code may make, and nothing else. */
export const TICKET_TRANSITIONS: Transitions<StateName> = {
  // CREATE_PENDING → CANCELLED: a cancel that overtook CreditCardAuthorized (another stream) on its way here.
  CREATE_PENDING: ["AWAITING_ACCEPTANCE", "CREATE_REJECTED", "CANCELLED"],
  AWAITING_ACCEPTANCE: ["ACCEPTED", "CANCELLED"],
  ACCEPTED: [],
  CREATE_REJECTED: [],
  CANCELLED: [],
};

interface RestaurantRow {
  restaurant_id: string;
  name: string;
  open: number;
}
interface MenuItemRow {
  menu_item_id: string;
  name: string;
  price_minor: number;
  currency: string;
}
/** A line of a ticket as stored (JSON in `tickets.line_items`). */
interface TicketLine {
  menuItemId: string;
  name: string;
  quantity: number;
}

interface TicketRow {
  order_id: string;
  restaurant_id: string;
  state: StateName;
  reason: string;
  line_items: string;
  create_time: number;
  update_time: number;
}

/** One committed change of a ticket: the ticket as that change left it, and the state it left (none if new). */
export interface TicketChange {
  readonly ticket: Ticket;
  readonly from: TicketState | undefined;
}

/**
 * Kitchen Service's own database: restaurants, menus, tickets, their state history, the outbox and the
 * processed-messages table. Every state change and the event it causes are written in one transaction.
 */
export interface KitchenStore {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly history: StateHistory;
  findRestaurant(restaurantId: string): Restaurant | undefined;
  menuOf(restaurantId: string): MenuItem[];
  findTicket(orderId: string): Ticket | undefined;
  /** Create Order step 3: validate the order, create its ticket CREATE_PENDING (or CREATE_REJECTED), publish. */
  createTicket(order: OrderCreated, ctx: MessageContext): Ticket;
  /** Step 5: CREATE_PENDING → AWAITING_ACCEPTANCE, publishing TicketApproved. */
  approveTicket(orderId: string, ctx: MessageContext): boolean;
  /** Compensation of step 3: the ticket will never be cooked (CREATE_REJECTED), publishing TicketRejected. */
  rejectTicket(orderId: string, reason: string, ctx: MessageContext): boolean;
  /**
   * The restaurant accepts: AWAITING_ACCEPTANCE → ACCEPTED, publishing TicketAccepted and sending Delivery the
   * one-way command ScheduleDelivery (no reply expected), in one transaction (idempotent).
   */
  acceptTicket(orderId: string, requestId?: string, readyBy?: Timestamp): Ticket;
  /** Cancel Order: AWAITING_ACCEPTANCE → CANCELLED, or a refusal once the restaurant has accepted. */
  cancelTicket(orderId: string, ctx: MessageContext): "cancelled" | "refused";
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
export function openKitchenStore(file: string, options: { partitions?: number } = {}): KitchenStore {
  const db = openDatabase(file, MIGRATIONS);
  seed(db);
  const outbox = createOutbox(db, options);
  const machine = createStateMachine(db, { entity: "ticket", table: "tickets", transitions: TICKET_TRANSITIONS });
  const history = machine.history;
  const restaurant = db.prepare<[string], RestaurantRow>("SELECT * FROM restaurants WHERE restaurant_id = ?");
  const menu = db.prepare<[string], MenuItemRow>(
    "SELECT * FROM menu_items WHERE restaurant_id = ? ORDER BY position, menu_item_id",
  );
  const ticket = db.prepare<[string], TicketRow>("SELECT * FROM tickets WHERE order_id = ?");
  // Oldest first by when each reached the queue: the history's seq orders that exactly (update_time is in ms).
  const openTickets = db.prepare<[string], TicketRow>(
    `SELECT t.* FROM tickets t
       JOIN state_transitions h ON h.entity = 'ticket' AND h.entity_id = t.order_id AND h.to_state = t.state
     WHERE t.restaurant_id = ? AND t.state = 'AWAITING_ACCEPTANCE' ORDER BY h.seq`,
  );
  // In-process change feed for WatchTickets, keyed by restaurant: each change publishes the ticket it made.
  const feed = createChangeFeed<TicketChange>(db);
  const insertTicket = db.prepare(
    `INSERT INTO tickets (order_id, restaurant_id, state, reason, line_items, create_time, update_time)
     VALUES (@orderId, @restaurantId, @state, @reason, @lineItems, @now, @now)`,
  );

  const findRestaurant = (restaurantId: string) => {
    const row = restaurant.get(restaurantId);
    return row && create(RestaurantSchema, { restaurantId: row.restaurant_id, name: row.name, open: row.open === 1 });
  };
  const menuOf = (restaurantId: string) =>
    menu.all(restaurantId).map((row) =>
      create(MenuItemSchema, {
        menuItemId: row.menu_item_id,
        name: row.name,
        price: money(row.price_minor, row.currency),
      }),
    );
  const findTicket = (orderId: string) => {
    const row = ticket.get(orderId);
    return row && toTicket(row);
  };
  /** A change that the restaurant's displays hear about once committed; read here, inside its transaction. */
  const changed = (orderId: string, from: StateName | null) => {
    if (feed.listenerCount() === 0) return; // no display is watching: not worth reading the ticket
    const now = findTicket(orderId) as Ticket;
    feed.publish(now.restaurantId, { ticket: now, from: from === null ? undefined : TicketState[from] });
  };
  const transition = (orderId: string, from: StateName, to: StateName, reason: string, messageId?: string) => {
    const moved = machine.transition(orderId, from, to, reason, messageId);
    if (moved) changed(orderId, from);
    return moved;
  };
  const newTicket = (
    orderId: string,
    restaurantId: string,
    state: StateName,
    reason: string,
    lines: TicketLine[],
    messageId?: string,
  ) => {
    insertTicket.run({ orderId, restaurantId, state, reason, lineItems: JSON.stringify(lines), now: Date.now() });
    history.record(orderId, null, state, messageId);
    changed(orderId, null);
  };

  return {
    db,
    outbox,
    history,
    findRestaurant,
    menuOf,
    findTicket,
    createTicket(order, ctx) {
      const existing = findTicket(order.orderId);
      // A failure elsewhere can overtake OrderCreated (it travels on another stream): the ticket was then
      // already rejected, and an order the saga has given up on must not become a ticket to cook.
      if (existing) return existing;
      const lines = order.lineItems.map((l) => ({ menuItemId: l.menuItemId, name: l.name, quantity: l.quantity }));
      const problem = whyKitchenCannotTake(order, findRestaurant(order.restaurantId), menuOf(order.restaurantId));
      if (problem) {
        newTicket(order.orderId, order.restaurantId, "CREATE_REJECTED", problem, lines, ctx.messageId);
        ctx.publish(TicketCreationFailedSchema, { orderId: order.orderId, reason: problem });
      } else {
        newTicket(order.orderId, order.restaurantId, "CREATE_PENDING", "", lines, ctx.messageId);
        ctx.publish(TicketCreatedSchema, { orderId: order.orderId, restaurantId: order.restaurantId });
      }
      return findTicket(order.orderId) as Ticket;
    },
    approveTicket(orderId, ctx) {
      if (!transition(orderId, "CREATE_PENDING", "AWAITING_ACCEPTANCE", "", ctx.messageId)) return false;
      ctx.publish(TicketApprovedSchema, { orderId });
      return true;
    },
    rejectTicket(orderId, reason, ctx) {
      if (!findTicket(orderId)) {
        // The failure overtook OrderCreated: remember the rejection so that OrderCreated finds it.
        newTicket(orderId, "", "CREATE_REJECTED", reason, [], ctx.messageId);
      } else if (!transition(orderId, "CREATE_PENDING", "CREATE_REJECTED", reason, ctx.messageId)) {
        return false;
      }
      ctx.publish(TicketRejectedSchema, { orderId, reason });
      return true;
    },
    acceptTicket: db.transaction((orderId: string, requestId?: string, readyBy?: Timestamp) => {
      const current = findTicket(orderId);
      if (!current) throw new NotFoundError(`no ticket for order ${orderId}`);
      if (current.state === TicketState.ACCEPTED) return current;
      if (!transition(orderId, "AWAITING_ACCEPTANCE", "ACCEPTED", "")) {
        throw new FailedPreconditionError(
          `ticket of order ${orderId} is ${TicketState[current.state]}: only a ticket AWAITING_ACCEPTANCE can be accepted`,
        );
      }
      outbox.append(
        TicketAcceptedSchema,
        { orderId, restaurantId: current.restaurantId },
        { correlationId: orderId, requestId },
      );
      // One-way notification: a command to Delivery's point-to-point channel, with no reply channel.
      outbox.send(
        ScheduleDeliverySchema,
        { orderId, restaurantId: current.restaurantId, readyBy },
        { correlationId: orderId, requestId },
      );
      return findTicket(orderId) as Ticket;
    }),
    cancelTicket(orderId, ctx) {
      const cancelled = (from: StateName) => transition(orderId, from, "CANCELLED", "order cancelled", ctx.messageId);
      if (cancelled("AWAITING_ACCEPTANCE") || cancelled("CREATE_PENDING")) {
        ctx.publish(TicketCancelledSchema, { orderId });
        return "cancelled";
      }
      const current = findTicket(orderId);
      const reason =
        current?.state === TicketState.ACCEPTED
          ? "the restaurant has accepted the ticket"
          : `the ticket is ${current ? TicketState[current.state] : "unknown"}`;
      ctx.publish(TicketCancellationRefusedSchema, { orderId, reason });
      return "refused";
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

/** The kitchen's validation of a new order: why it cannot take it, or undefined when it can. */
function whyKitchenCannotTake(order: OrderCreated, restaurant: Restaurant | undefined, menu: MenuItem[]) {
  if (!restaurant) return `restaurant ${order.restaurantId} not found`;
  if (!restaurant.open) return `restaurant ${order.restaurantId} is closed`;
  const onMenu = new Set(menu.map((item) => item.menuItemId));
  const missing = order.lineItems.find((line) => !onMenu.has(line.menuItemId));
  if (missing) return `menu item ${missing.menuItemId} is not on the menu of restaurant ${order.restaurantId}`;
  return undefined;
}

function toTicket(row: TicketRow): Ticket {
  return create(TicketSchema, {
    orderId: row.order_id,
    restaurantId: row.restaurant_id,
    state: TicketState[row.state],
    reason: row.reason,
    lineItems: JSON.parse(row.line_items),
    createTime: timestampFromMs(row.create_time),
    updateTime: timestampFromMs(row.update_time),
  });
}

/** Inserts the seed restaurants unless they are there already; never overwrites what a user changed. */
function seed(db: Database): void {
  const insertRestaurant = db.prepare(
    "INSERT INTO restaurants (restaurant_id, name, open) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const insertItem = db.prepare(
    `INSERT INTO menu_items (menu_item_id, restaurant_id, position, name, price_minor, currency)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  db.transaction(() => {
    for (const r of SEED_RESTAURANTS) {
      insertRestaurant.run(r.restaurantId, r.name, r.open ? 1 : 0);
      r.menu.forEach((item, position) => {
        insertItem.run(item.menuItemId, r.restaurantId, position, item.name, item.priceMinor, DEFAULT_CURRENCY);
      });
    }
  })();
}
