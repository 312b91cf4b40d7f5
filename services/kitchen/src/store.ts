import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type MenuItem,
  MenuItemSchema,
  type Restaurant,
  RestaurantSchema,
  type Ticket,
  TicketSchema,
  TicketState,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { DEFAULT_CURRENCY, money, openDatabase } from "@ftgo/platform";
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
interface TicketRow {
  order_id: string;
  restaurant_id: string;
  state: keyof typeof TicketState;
  reason: string;
  line_items: string;
  create_time: number;
  update_time: number;
}

/** Kitchen Service's own database: restaurants, menus, tickets. Nobody else reads it. */
export interface KitchenStore {
  findRestaurant(restaurantId: string): Restaurant | undefined;
  menuOf(restaurantId: string): MenuItem[];
  findTicket(orderId: string): Ticket | undefined;
  close(): void;
}

/** Opens the kitchen database at `file`, creating the schema and the seed restaurants on first start. */
export function openKitchenStore(file: string): KitchenStore {
  const db = openDatabase(file, MIGRATIONS);
  seed(db);
  const restaurant = db.prepare<[string], RestaurantRow>("SELECT * FROM restaurants WHERE restaurant_id = ?");
  const menu = db.prepare<[string], MenuItemRow>(
    "SELECT * FROM menu_items WHERE restaurant_id = ? ORDER BY position, menu_item_id",
  );
  const ticket = db.prepare<[string], TicketRow>("SELECT * FROM tickets WHERE order_id = ?");
  return {
    findRestaurant(restaurantId) {
      const row = restaurant.get(restaurantId);
      return row && create(RestaurantSchema, { restaurantId: row.restaurant_id, name: row.name, open: row.open === 1 });
    },
    menuOf(restaurantId) {
      return menu.all(restaurantId).map((row) =>
        create(MenuItemSchema, {
          menuItemId: row.menu_item_id,
          name: row.name,
          price: money(row.price_minor, row.currency),
        }),
      );
    },
    findTicket(orderId) {
      const row = ticket.get(orderId);
      return row && toTicket(row);
    },
    close: () => db.close(),
  };
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
function seed(db: ReturnType<typeof openDatabase>): void {
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
