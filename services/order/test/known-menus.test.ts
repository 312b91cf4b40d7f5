// The last known menu (CreateOrder's fallback when Kitchen cannot answer) is kept per restaurant, written
// only when it changes: the same menu on every order would otherwise cost each order a second commit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { GetMenuResponseSchema, MenuItemSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { money } from "@ftgo/platform";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openOrderStore } from "../src/store.js";

const menu = (price: number) =>
  create(GetMenuResponseSchema, {
    restaurant: { restaurantId: "r-1", name: "Pho Hanoi", open: true },
    menuItems: [create(MenuItemSchema, { menuItemId: "m-1", name: "Pho bo", price: money(price) })],
  });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "order-menus-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the last known menus", () => {
  it("writes a menu when it is new or changed, not when it is the one already saved", () => {
    const store = openOrderStore(join(dir, "order.db"));
    const writes = () => (store.db.prepare("SELECT total_changes() AS n").get() as { n: number }).n;
    const start = writes();
    store.rememberMenu(menu(650));
    expect(writes()).toBe(start + 1);
    store.rememberMenu(menu(650));
    store.rememberMenu(menu(650));
    expect(writes()).toBe(start + 1);
    store.rememberMenu(menu(700));
    expect(writes()).toBe(start + 2);
    expect(store.lastKnownMenu("r-1")?.menuItems[0]?.price?.minorUnits).toBe(700n);
    store.db.close();
  });

  it("are still known after a restart, and a restarted store saves a changed menu", () => {
    const file = join(dir, "order.db");
    const first = openOrderStore(file);
    first.rememberMenu(menu(650));
    first.db.close();
    const second = openOrderStore(file);
    expect(second.lastKnownMenu("r-1")?.menuItems[0]?.price?.minorUnits).toBe(650n);
    second.rememberMenu(menu(800));
    second.db.close();
    const third = openOrderStore(file);
    expect(third.lastKnownMenu("r-1")?.menuItems[0]?.price?.minorUnits).toBe(800n);
    third.db.close();
  });
});
