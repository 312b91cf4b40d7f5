// Kitchen's steps of the sagas and their rules, called directly on Kitchen's real database (SQLite in a temp
// dir, with the seed restaurants): each message is handled in a transaction of its own, as the inbox runs it,
// with a context whose `publish` appends to the real outbox. No NATS.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { TicketCancellationRefusedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import type { MessageContext } from "@ftgo/platform";
import { handleEvent } from "@ftgo/platform/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acceptTicket, approveTicket, cancelTicket, createTicket, rejectTicket } from "../src/steps.js";
import { type KitchenStore, openKitchenStore } from "../src/store.js";

let dir: string;
let store: KitchenStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kitchen-steps-"));
  store = openKitchenStore(join(dir, "kitchen.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const handle = <T>(orderId: string, step: (ctx: MessageContext) => T): T => handleEvent(store, orderId, step);

/** The events the steps wrote for an order, by short type name, in order. */
const outbox = (orderId: string) =>
  store.db
    .prepare<[string], { type: string }>("SELECT type FROM outbox WHERE correlation_id = ? ORDER BY seq")
    .all(orderId)
    .map((row) => row.type.split(".").pop());

function orderCreated(restaurantId: string, menuItemIds: string[]) {
  return create(OrderCreatedSchema, {
    orderId: `o-${randomUUID()}`,
    consumerId: "c-1001",
    restaurantId,
    lineItems: menuItemIds.map((menuItemId) => ({ menuItemId, name: menuItemId, quantity: 1 })),
  });
}

describe("createTicket", () => {
  it("creates the ticket CREATE_PENDING for an open restaurant's menu items", () => {
    const order = orderCreated("r-1", ["m-1", "m-2"]);
    const ticket = handle(order.orderId, (ctx) => createTicket(store, order, ctx));
    expect([TicketState[ticket.state], ticket.reason]).toEqual(["CREATE_PENDING", ""]);
    expect(ticket.lineItems.map((line) => line.menuItemId)).toEqual(["m-1", "m-2"]);
    expect(outbox(order.orderId)).toEqual(["TicketCreated"]);
  });

  it.each([
    ["the restaurant is unknown", "r-9", ["m-1"], "restaurant r-9 not found"],
    ["the restaurant is closed", "r-2", ["m-10"], "restaurant r-2 is closed"],
    ["an item is not on the menu", "r-1", ["m-1", "m-10"], "menu item m-10 is not on the menu of restaurant r-1"],
  ])("refuses the ticket when %s", (_, restaurantId, items, reason) => {
    const order = orderCreated(restaurantId, items);
    const ticket = handle(order.orderId, (ctx) => createTicket(store, order, ctx));
    expect([TicketState[ticket.state], ticket.reason]).toEqual(["CREATE_REJECTED", reason]);
    expect(outbox(order.orderId)).toEqual(["TicketCreationFailed"]);
  });

  it("never turns an order the saga has given up on into a ticket to cook", () => {
    const order = orderCreated("r-1", ["m-1"]);
    // The card was declined and the rejection overtook OrderCreated on its way here.
    expect(handle(order.orderId, (ctx) => rejectTicket(store, order.orderId, "card declined", ctx))).toBe(true);
    const ticket = handle(order.orderId, (ctx) => createTicket(store, order, ctx));
    expect([TicketState[ticket.state], ticket.reason]).toEqual(["CREATE_REJECTED", "card declined"]);
    expect(outbox(order.orderId)).toEqual(["TicketRejected"]);
  });
});

describe("rejectTicket", () => {
  it("rejects a pending ticket once, and never one the card has paid for", () => {
    const [declined, paid] = [orderCreated("r-1", ["m-1"]), orderCreated("r-1", ["m-1"])];
    for (const order of [declined, paid]) handle(order.orderId, (ctx) => createTicket(store, order, ctx));
    handle(paid.orderId, (ctx) => approveTicket(store, paid.orderId, ctx));

    expect(handle(declined.orderId, (ctx) => rejectTicket(store, declined.orderId, "card declined", ctx))).toBe(true);
    expect(handle(declined.orderId, (ctx) => rejectTicket(store, declined.orderId, "card declined", ctx))).toBe(false);
    expect(handle(paid.orderId, (ctx) => rejectTicket(store, paid.orderId, "too late", ctx))).toBe(false);
    expect(store.findTicket(declined.orderId)?.state).toBe(TicketState.CREATE_REJECTED);
    expect(store.findTicket(paid.orderId)?.state).toBe(TicketState.AWAITING_ACCEPTANCE);
    expect(outbox(declined.orderId)).toEqual(["TicketCreated", "TicketRejected"]);
  });
});

describe("cancelTicket", () => {
  it("cancels a ticket the restaurant has not accepted yet", () => {
    const order = orderCreated("r-1", ["m-1"]);
    handle(order.orderId, (ctx) => createTicket(store, order, ctx));
    handle(order.orderId, (ctx) => approveTicket(store, order.orderId, ctx));
    expect(handle(order.orderId, (ctx) => cancelTicket(store, order.orderId, ctx))).toBe("cancelled");
    expect(store.findTicket(order.orderId)?.state).toBe(TicketState.CANCELLED);
    expect(outbox(order.orderId)).toEqual(["TicketCreated", "TicketApproved", "TicketCancelled"]);
  });

  it("refuses to cancel a ticket the restaurant has accepted, saying why", () => {
    const order = orderCreated("r-1", ["m-1"]);
    handle(order.orderId, (ctx) => createTicket(store, order, ctx));
    handle(order.orderId, (ctx) => approveTicket(store, order.orderId, ctx));
    acceptTicket(store, order.orderId);
    expect(handle(order.orderId, (ctx) => cancelTicket(store, order.orderId, ctx))).toBe("refused");
    expect(store.findTicket(order.orderId)?.state).toBe(TicketState.ACCEPTED);
    const last = store.db
      .prepare<[string], { type: string; payload: Buffer }>(
        "SELECT type, payload FROM outbox WHERE correlation_id = ? ORDER BY seq DESC LIMIT 1",
      )
      .get(order.orderId);
    expect(last?.type).toBe(TicketCancellationRefusedSchema.typeName);
    expect(fromBinary(TicketCancellationRefusedSchema, last?.payload ?? new Uint8Array()).reason).toBe(
      "the restaurant has accepted the ticket",
    );
  });
});
