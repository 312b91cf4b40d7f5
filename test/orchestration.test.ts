// What only the orchestrated saga has: step timeouts, and an orchestrator that dies with sagas in flight.
// Real processes (SIGSTOP, SIGKILL), a real nats-server, the orchestrator's own records audited.

import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { grpcDisagreements, placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { orderReaches, placeOrderOverGrpc, sagaReaches } from "@ftgo/harness/saga-over-grpc.js";
import { waitFor } from "@ftgo/platform/testing";
import { describe, expect, it } from "vitest";

// Long enough for a healthy step on a loaded two-core machine, short enough to keep the test quick.
const STEP_TIMEOUT_MS = 3_000;

const fixture = useSagaMesh({
  env: { SAGA_MODE: "orchestration", SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS) },
});

/** The orchestrator's record of an order's Create Order saga, and its history. */
function sagaOf(orderId: string) {
  const { dbs } = fixture;
  const saga = dbs.order
    .prepare<[string], { saga_id: string; state: string; step: number; reason: string; ended: number }>(
      "SELECT * FROM sagas WHERE order_id = ? AND saga_type = 'CreateOrderSaga'",
    )
    .get(orderId);
  const history = dbs.order
    .prepare<[string], { from_state: string | null; to_state: string; note: string }>(
      "SELECT from_state, to_state, note FROM saga_history WHERE saga_id = ? ORDER BY seq",
    )
    .all(saga?.saga_id ?? "");
  return { saga, history };
}

describe.sequential("a participant that does not reply within the step timeout", () => {
  it("Consumer frozen: the saga rejects the order with a reason naming the step, and ignores the late reply", async () => {
    const { mesh, clients } = fixture;
    await mesh.consumer.kill("SIGSTOP");
    let orderId: string;
    try {
      ({ orderId } = await placeOrderOverGrpc(clients, "c-1001"));
      const order = await orderReaches(clients, orderId);
      expect(order.reason).toBe(
        `verifying consumer timed out: consumer did not reply to VerifyConsumer within ${STEP_TIMEOUT_MS} ms`,
      );
      await sagaReaches(clients, orderId, {
        order: "REJECTED",
        reason: order.reason,
        ticket: "NONE",
        authorization: "NONE",
      });
    } finally {
      await mesh.consumer.kill("SIGCONT");
    }
    // Consumer answers once it runs again; the saga has moved on and says so.
    await expectEventually(() => sagaOf(orderId).history.some((h) => h.note.startsWith("ignored ConsumerVerified")));
    const { saga, history } = sagaOf(orderId);
    expect(saga).toMatchObject({ state: "REJECTED", ended: 1 });
    expect(history.map((h) => [h.from_state, h.to_state, h.note])).toEqual([
      [null, "VERIFYING_CONSUMER", ""],
      ["VERIFYING_CONSUMER", "REJECTED", "timed out"],
      ["REJECTED", "REJECTED", expect.stringMatching(/^ignored ConsumerVerified/)],
    ]);
  }, 30_000);

  it("Accounting frozen: the ticket is rejected, and the card charged late is refunded", async () => {
    const { mesh, clients, dbs } = fixture;
    await mesh.accounting.kill("SIGSTOP");
    let orderId: string;
    try {
      ({ orderId } = await placeOrderOverGrpc(clients, "c-1001"));
      const order = await orderReaches(clients, orderId, undefined, 20_000);
      expect(order.reason).toBe(
        `authorizing card timed out: accounting did not reply to AuthorizeCard within ${STEP_TIMEOUT_MS} ms`,
      );
    } finally {
      await mesh.accounting.kill("SIGCONT");
    }
    // Accounting handles AuthorizeCard, then CancelAuthorization (one partition, in order): charged, then refunded.
    await sagaReaches(clients, orderId, {
      order: "REJECTED",
      reason: `authorizing card timed out: accounting did not reply to AuthorizeCard within ${STEP_TIMEOUT_MS} ms`,
      ticket: "CREATE_REJECTED",
      authorization: "REVERSED",
    });
    const ledger = dbs.accounting
      .prepare<[string], { kind: string; amount_minor: number }>(
        "SELECT kind, amount_minor FROM card_charges WHERE order_id = ? ORDER BY seq",
      )
      .all(orderId);
    expect(ledger.map((row) => row.kind)).toEqual(["charge", "reversal"]);
    expect(ledger.reduce((sum, row) => sum + row.amount_minor, 0)).toBe(0);
    const { history } = sagaOf(orderId);
    expect(history.slice(0, 6).map((h) => h.to_state)).toEqual([
      "VERIFYING_CONSUMER",
      "CREATING_TICKET",
      "AUTHORIZING_CARD",
      "CANCELLING_AUTHORIZATION", // compensating: the card may have been charged
      "REJECTING_TICKET",
      "REJECTED",
    ]);
    // Whatever came after is a late reply, noted and ignored: the saga never moved again.
    expect(history.slice(6).every((h) => h.from_state === "REJECTED" && h.note.startsWith("ignored"))).toBe(true);
  }, 40_000);
});

describe.sequential("the orchestrator killed with SIGKILL with 50 sagas in flight", () => {
  // A mesh of its own whose steps never time out while Order is down: this is about resuming, not giving up.
  const fixture = useSagaMesh({ env: { SAGA_MODE: "orchestration", SAGA_STEP_TIMEOUT_MS: "120000" } });

  it("resumes them after restart: 50 of 50 end, each step ran once, nobody charged twice", async () => {
    const { mesh, clients, dbs } = fixture;
    const inFlight = () =>
      dbs.order.prepare<[], { n: number }>("SELECT count(*) AS n FROM sagas WHERE ended = 0").get()?.n ?? 0;
    const placed = await placeOrders(clients, 50, { concurrency: 10 });
    const caught = inFlight();
    await mesh.order.kill("SIGKILL");
    expect(caught).toBeGreaterThan(0); // the kill did land mid-saga
    await mesh.order.restart();

    const orderIds = placed.map((order) => order.orderId);
    const sagas = await sagasSettleInDatabases(dbs, orderIds, {
      mode: "orchestration",
      timeoutMs: 60_000,
      context: () => mesh.output(),
    });
    expect(sagas).toHaveLength(50);
    expect(unexpectedOutcomes(sagas, "orchestration")).toEqual([]);
    const report = auditSagas(dbs, orderIds, "orchestration"); // includes: one saga per order, ended, no state entered twice
    expect(report.violations).toEqual([]);
    expect(report.counts).toMatchObject({ orders: 50, unsettled: 0, doubleCharges: 0 });
    expect(eventsPublishedTwice(dbs, orderIds)).toEqual([]);
    expect(await grpcDisagreements(clients, sagas)).toEqual([]);
    expect(mesh.crashes()).toEqual([]);
  }, 120_000);
});

function expectEventually(probe: () => boolean) {
  return waitFor(probe, { timeoutMs: 15_000, message: "the late reply to be noted" });
}
