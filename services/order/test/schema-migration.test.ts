// The store's model became v2's by a migration, not by a new database: rows written before it (v1's line
// items as JSON, one reason column, the bool of the fallback) read as v2 orders with v1's defaults.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderState, PriceSource } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { openDatabase } from "@ftgo/platform";
import Database from "better-sqlite3";
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

  it("lets any number of v1 orders go without a key, and no two orders of one consumer share one", () => {
    const store = openOrderStore(join(dir, "order.db"));
    try {
      const insert = store.db.prepare(OLD_ROW);
      insert.run("o-1", "APPROVAL_PENDING", "", 0);
      insert.run("o-2", "APPROVAL_PENDING", "", 0); // both keys NULL: SQLite's UNIQUE lets NULLs be
      const setKey = store.db.prepare("UPDATE orders SET idempotency_key = 'k-1' WHERE order_id = ?");
      setKey.run("o-1");
      expect(() => setKey.run("o-2")).toThrow(/UNIQUE constraint failed: orders.consumer_id, orders.idempotency_key/);
    } finally {
      store.close();
    }
  });
});

/** A v2 order row with consumer `consumerId`'s idempotency key `key`, as any schema since v2 stores it. */
const KEYED_ROW = `INSERT INTO orders (order_id, consumer_id, restaurant_id, state, total_minor, currency, line_items,
                                      create_time, update_time, idempotency_key, request_fingerprint)
                   VALUES (@orderId, @consumerId, 'r-1', 'APPROVAL_PENDING', 650, 'USD',
                           '[{"menuItemId":"m-1","name":"Pho bo","quantity":1,"price":{"currencyCode":"USD","minorUnits":"650"},"total":{"currencyCode":"USD","minorUnits":"650"}}]',
                           1700000000000, 1700000000000, @key, @fingerprint)`;

describe("the migration to keys scoped by consumer", () => {
  it("keeps the rows of a database the global key index guarded, and lets another consumer reuse a key", () => {
    const file = join(dir, "order.db");
    // The schema as the releases before this migration left it: a key unique across all consumers.
    const before = openDatabase(file, MIGRATIONS.slice(0, 3));
    const keyed = before.prepare(KEYED_ROW);
    keyed.run({ orderId: "o-a", consumerId: "c-1001", key: "k-shared", fingerprint: "f-a" });
    keyed.run({ orderId: "o-b", consumerId: "c-2002", key: "k-own", fingerprint: "f-b" });
    before.prepare(OLD_ROW).run("o-v1", "APPROVED", "", 0);
    const otherConsumersKey = { orderId: "o-c", consumerId: "c-2002", key: "k-shared", fingerprint: "f-c" };
    expect(() => keyed.run(otherConsumersKey)).toThrow(/UNIQUE constraint failed: orders.idempotency_key/);
    before.close();

    const store = openOrderStore(file);
    try {
      expect(userVersion(file)).toBe(MIGRATIONS.length);
      const count = store.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM orders");
      expect(count.get()?.n).toBe(3);
      expect(store.findByIdempotencyKey("c-1001", "k-shared")).toMatchObject({
        order: { orderId: "o-a", consumerId: "c-1001", idempotencyKey: "k-shared" },
        fingerprint: "f-a",
      });
      expect(store.findByIdempotencyKey("c-2002", "k-own")?.order.orderId).toBe("o-b");
      expect(store.findByIdempotencyKey("c-2002", "k-shared")).toBeUndefined();
      expect(store.findOrder("o-v1")).toMatchObject({ state: OrderState.APPROVED, idempotencyKey: "" });

      // The new uniqueness: another consumer's equal key is a row of its own, the same consumer's is refused.
      const insert = store.db.prepare(KEYED_ROW);
      insert.run(otherConsumersKey);
      expect(store.findByIdempotencyKey("c-2002", "k-shared")?.order.orderId).toBe("o-c");
      expect(store.findByIdempotencyKey("c-1001", "k-shared")?.order.orderId).toBe("o-a");
      expect(() => insert.run({ orderId: "o-d", consumerId: "c-1001", key: "k-shared", fingerprint: "f-d" })).toThrow(
        /UNIQUE constraint failed: orders.consumer_id, orders.idempotency_key/,
      );
      expect(count.get()?.n).toBe(4);
    } finally {
      store.close();
    }
  });
});

/** SQLite's count of the migrations run on `file`, read beside the store's own connection. */
function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } finally {
    db.close();
  }
}
