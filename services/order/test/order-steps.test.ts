// Order's steps of the sagas, called directly on Order's real database (SQLite in a temp dir): each message
// is handled in a transaction of its own, as the inbox runs it, with a context whose `publish` appends to
// the real outbox. No NATS. The same steps end both saga modes (events, or the orchestrator's final states).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderState } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { type MessageContext, money } from "@ftgo/platform";
import { handleEvent } from "@ftgo/platform/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { approveOrder, completeCancel, refuseCancel, rejectOrder } from "../src/steps.js";
import { type OrderStore, openOrderStore } from "../src/store.js";

let dir: string;
let store: OrderStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "order-steps-"));
  store = openOrderStore(join(dir, "order.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const handle = <T>(orderId: string, step: (ctx: MessageContext) => T): T => handleEvent(store, orderId, step);

/** The order's events after OrderCreated (which the CreateOrder RPC wrote), by short type name. */
const eventsOf = (orderId: string) =>
  store.db
    .prepare<[string], { type: string }>("SELECT type FROM outbox WHERE correlation_id = ? ORDER BY seq")
    .all(orderId)
    .map((row) => row.type.split(".").pop())
    .filter((type) => type !== "OrderCreated");

const stateOf = (orderId: string) => OrderState[store.findOrder(orderId)?.state ?? OrderState.UNSPECIFIED];

function pendingOrder(): string {
  const orderId = `o-${randomUUID()}`;
  store.createPending({ orderId, consumerId: "c-1001", restaurantId: "r-1", lineItems: [], total: money(650) });
  return orderId;
}

describe("approveOrder", () => {
  it("approves a pending order once, and announces it once", () => {
    const orderId = pendingOrder();
    expect(handle(orderId, (ctx) => approveOrder(store, orderId, ctx))).toBe(true);
    expect(handle(orderId, (ctx) => approveOrder(store, orderId, ctx))).toBe(false);
    expect([stateOf(orderId), ...eventsOf(orderId)]).toEqual(["APPROVED", "OrderApproved"]);
  });
});

describe("rejectOrder", () => {
  it("rejects a pending order with the first failed step's reason; a second failure changes nothing", () => {
    const orderId = pendingOrder();
    expect(handle(orderId, (ctx) => rejectOrder(store, orderId, "consumer c-1003 is suspended", ctx))).toBe(true);
    expect(handle(orderId, (ctx) => rejectOrder(store, orderId, "restaurant r-2 is closed", ctx))).toBe(false);
    expect([stateOf(orderId), store.findOrder(orderId)?.rejectionReason]).toEqual([
      "REJECTED",
      "consumer c-1003 is suspended",
    ]);
    expect(eventsOf(orderId)).toEqual(["OrderRejected"]);
  });

  it("never rejects an order already approved", () => {
    const orderId = pendingOrder();
    handle(orderId, (ctx) => approveOrder(store, orderId, ctx));
    expect(handle(orderId, (ctx) => rejectOrder(store, orderId, "too late", ctx))).toBe(false);
    expect([stateOf(orderId), ...eventsOf(orderId)]).toEqual(["APPROVED", "OrderApproved"]);
  });
});

describe("Cancel Order's end", () => {
  const cancelling = () => {
    const orderId = pendingOrder();
    handle(orderId, (ctx) => approveOrder(store, orderId, ctx));
    store.requestCancel(orderId);
    return orderId;
  };

  it("cancels the order once the charge is reversed", () => {
    const orderId = cancelling();
    expect(handle(orderId, (ctx) => completeCancel(store, orderId, ctx))).toBe(true);
    expect(handle(orderId, (ctx) => refuseCancel(store, orderId, "too late", ctx))).toBe(false);
    expect([stateOf(orderId), ...eventsOf(orderId)]).toEqual([
      "CANCELLED",
      "OrderApproved",
      "OrderCancelRequested",
      "OrderCancelled",
    ]);
  });

  it("keeps the order APPROVED, with the reason, when the kitchen refused", () => {
    const orderId = cancelling();
    const reason = "the restaurant has accepted the ticket";
    expect(handle(orderId, (ctx) => refuseCancel(store, orderId, reason, ctx))).toBe(true);
    expect([stateOf(orderId), store.findOrder(orderId)?.cancelRefusalReason]).toEqual(["APPROVED", reason]);
    expect(eventsOf(orderId)).toEqual(["OrderApproved", "OrderCancelRequested", "OrderCancelRefused"]);
  });
});
