// The store's model became v2's by a migration, not by a new database: rows written before it (v1's line
// items as JSON, one reason column, the bool of the fallback) read as v2 orders with v1's defaults.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderState, PriceSource } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { openDatabase } from "@ftgo/platform";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../src/schema.js";
import { openOrderStore } from "../src/store.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "order-migration-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An order row as the schema before v2 stored it, line items in v1's JSON. */
const OLD_ROW = `INSERT INTO orders (order_id, consumer_id, restaurant_id, state, reason, total_minor, currency, line_items,
                                    create_time, update_time, priced_from_last_known_menu)
                 VALUES (?, 'c-1001', 'r-1', ?, ?, 1300, 'USD',
                         '[{"menuItemId":"m-1","name":"Pho bo","quantity":2,"price":{"currencyCode":"USD","minorUnits":"650"},"total":{"currencyCode":"USD","minorUnits":"1300"}}]',
                         1700000000000, 1700000000000, ?)`;

describe("the v2 migration", () => {
  it("reads the rows written before it as v2 orders, without key, delivery or instructions", () => {
    const file = join(dir, "order.db");
    const before = openDatabase(file, MIGRATIONS.slice(0, 2));
    before.prepare(OLD_ROW).run("o-rejected", "REJECTED", "card ending 0002 was declined", 0);
    before.prepare(OLD_ROW).run("o-refused", "APPROVED", "the restaurant has accepted the ticket", 1);
    before.close();

    const store = openOrderStore(file);
    try {
      const rejected = store.findOrder("o-rejected");
      expect(rejected).toMatchObject({
        idempotencyKey: "",
        state: OrderState.REJECTED,
        rejectionReason: "card ending 0002 was declined",
        cancelRefusalReason: "",
        priceSource: PriceSource.CURRENT_MENU,
      });
      expect(rejected?.delivery).toBeUndefined();
      expect(rejected?.lineItems.map((l) => [l.name, l.quantity, l.total?.minorUnits, l.specialInstructions])).toEqual([
        ["Pho bo", 2, 1300n, ""],
      ]);
      expect(store.findOrder("o-refused")).toMatchObject({
        state: OrderState.APPROVED,
        rejectionReason: "",
        cancelRefusalReason: "the restaurant has accepted the ticket",
        priceSource: PriceSource.LAST_KNOWN_MENU,
      });
    } finally {
      store.close();
    }
  });

  it("lets any number of v1 orders go without a key, and no two orders share one", () => {
    const store = openOrderStore(join(dir, "order.db"));
    try {
      const insert = store.db.prepare(OLD_ROW);
      insert.run("o-1", "APPROVAL_PENDING", "", 0);
      insert.run("o-2", "APPROVAL_PENDING", "", 0); // both keys NULL: SQLite's UNIQUE lets NULLs be
      const setKey = store.db.prepare("UPDATE orders SET idempotency_key = 'k-1' WHERE order_id = ?");
      setKey.run("o-1");
      expect(() => setKey.run("o-2")).toThrow(/UNIQUE constraint failed: orders.idempotency_key/);
    } finally {
      store.close();
    }
  });
});
