// Kitchen Service's tables, as migrations applied in order on start (see openDatabase), the seed rows, and
// a ticket's row as the store reads it.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Ticket, TicketSchema, TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { type Database, DEFAULT_CURRENCY } from "@ftgo/platform";
import { SEED_RESTAURANTS } from "./seed.js";

export type TicketStateName = keyof typeof TicketState;

export const MIGRATIONS = [
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

export interface TicketRow {
  order_id: string;
  restaurant_id: string;
  state: TicketStateName;
  reason: string;
  line_items: string;
  create_time: number;
  update_time: number;
}

export function toTicket(row: TicketRow): Ticket {
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
export function seedRestaurants(db: Database): void {
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
