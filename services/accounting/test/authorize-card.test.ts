// Create Order step 4 and its compensations, called directly on Accounting's real database (SQLite in a temp
// dir): each message is handled in a transaction of its own, as the inbox runs it, with a context whose
// `publish` appends to the real outbox. No NATS: what is proven here is the step's rule, not the transport.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthorizationState } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { type MessageContext, money } from "@ftgo/platform";
import { handleEvent } from "@ftgo/platform/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  cancelAuthorization,
  noteConsumerVerified,
  noteOrderCreated,
  noteTicketCreated,
  reverseAuthorization,
} from "../src/steps.js";
import { type AccountingStore, openAccountingStore } from "../src/store.js";

let dir: string;
let store: AccountingStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "accounting-steps-"));
  store = openAccountingStore(join(dir, "accounting.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const handle = <T>(orderId: string, step: (ctx: MessageContext) => T): T => handleEvent(store, orderId, step);

/** The three facts step 4 waits for, each as its event's handler calls the step. */
const FACTS = {
  OrderCreated: (orderId: string, consumerId: string) =>
    handle(orderId, (ctx) => noteOrderCreated(store, { orderId, consumerId, total: money(1300) }, ctx)),
  TicketCreated: (orderId: string) => handle(orderId, (ctx) => noteTicketCreated(store, orderId, ctx)),
  ConsumerVerified: (orderId: string) => handle(orderId, (ctx) => noteConsumerVerified(store, orderId, ctx)),
};
type Fact = keyof typeof FACTS;

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}
const ARRIVAL_ORDERS = permutations(Object.keys(FACTS) as Fact[]);
const ALL_FACTS = Object.keys(FACTS) as Fact[];

const deliver = (fact: Fact, orderId: string, consumerId: string) => FACTS[fact](orderId, consumerId);
const outboxTypes = (orderId: string) =>
  store.db
    .prepare<[string], { type: string }>("SELECT type FROM outbox WHERE correlation_id = ? ORDER BY seq")
    .all(orderId)
    .map((row) => row.type.split(".").pop());
const chargesOf = (orderId: string) => store.cardCharges().filter((charge) => charge.orderId === orderId);

describe("authorizeCardWhenReady", () => {
  it("has six arrival orders to prove", () => {
    expect(new Set(ARRIVAL_ORDERS.map((order) => order.join())).size).toBe(6);
  });

  it.each(ARRIVAL_ORDERS)("charges the card exactly once when the facts arrive as %s, %s, %s", (...arrival) => {
    const orderId = `o-${randomUUID()}`;
    for (const [i, fact] of arrival.entries()) {
      deliver(fact, orderId, "c-1001");
      const last = i === arrival.length - 1;
      expect(chargesOf(orderId), `after ${fact}`).toHaveLength(last ? 1 : 0); // nothing before all three are in
    }
    for (const fact of arrival) deliver(fact, orderId, "c-1001"); // each fact again: already decided

    expect(chargesOf(orderId)).toEqual([{ orderId, kind: "charge", approved: true, amountMinor: 1300 }]);
    expect(outboxTypes(orderId)).toEqual(["CreditCardAuthorized"]);
    expect(store.findAuthorization(orderId)?.state).toBe(AuthorizationState.AUTHORIZED);
  });

  it.each([
    ["c-1002", "card ending 0002 was declined"],
    ["c-9999", "consumer c-9999 has no card on file"],
  ])("declines the card of %s once: %s", (consumerId, reason) => {
    const orderId = `o-${randomUUID()}`;
    for (const fact of ALL_FACTS) deliver(fact, orderId, consumerId);
    expect(chargesOf(orderId)).toEqual([{ orderId, kind: "charge", approved: false, amountMinor: 1300 }]);
    expect(outboxTypes(orderId)).toEqual(["CreditCardAuthorizationFailed"]);
    expect(store.findAuthorization(orderId)).toMatchObject({ state: AuthorizationState.DECLINED, reason });
  });
});

describe("cancelAuthorization", () => {
  it("never charges an order whose failure overtook its facts", () => {
    const orderId = `o-${randomUUID()}`;
    const cancelled = handle(orderId, (ctx) =>
      cancelAuthorization(store, orderId, "consumer c-1001 is suspended", ctx),
    );
    expect(cancelled).toBe(true);
    for (const fact of ALL_FACTS) deliver(fact, orderId, "c-1001");
    expect(chargesOf(orderId)).toEqual([]);
    expect(outboxTypes(orderId)).toEqual([]);
    expect(store.findAuthorization(orderId)?.state).toBe(AuthorizationState.CANCELLED);
  });

  it("does not cancel an authorization whose card is already charged", () => {
    const orderId = `o-${randomUUID()}`;
    for (const fact of ALL_FACTS) deliver(fact, orderId, "c-1001");
    expect(handle(orderId, (ctx) => cancelAuthorization(store, orderId, "too late", ctx))).toBe(false);
    expect(store.findAuthorization(orderId)?.state).toBe(AuthorizationState.AUTHORIZED);
  });
});

describe("reverseAuthorization", () => {
  it("refunds the charge once and announces it once", () => {
    const orderId = `o-${randomUUID()}`;
    for (const fact of ALL_FACTS) deliver(fact, orderId, "c-1001");
    expect(handle(orderId, (ctx) => reverseAuthorization(store, orderId, ctx))).toBe(true);
    expect(handle(orderId, (ctx) => reverseAuthorization(store, orderId, ctx))).toBe(false);
    expect(chargesOf(orderId).map((charge) => [charge.kind, charge.amountMinor])).toEqual([
      ["charge", 1300],
      ["reversal", -1300],
    ]);
    expect(outboxTypes(orderId)).toEqual(["CreditCardAuthorized", "CreditCardAuthorizationReversed"]);
    expect(store.findAuthorization(orderId)?.state).toBe(AuthorizationState.REVERSED);
  });

  it("refunds nothing for an order that was never charged", () => {
    const orderId = `o-${randomUUID()}`;
    deliver("OrderCreated", orderId, "c-1001");
    expect(handle(orderId, (ctx) => reverseAuthorization(store, orderId, ctx))).toBe(false);
    expect(chargesOf(orderId)).toEqual([]);
  });
});
