// Crash mid-saga: one participant is killed with SIGKILL while orders are in flight — no graceful
// shutdown, whatever it was doing lost unless committed — and restarted on the same port and database.
// Every saga must still end, and end right: the outbox publishes what was committed, JetStream
// redelivers what was not acknowledged, the inbox drops what was already applied.

import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import {
  grpcDisagreements,
  orderMark,
  ordersSince,
  placeOrders,
  sagasSettleInDatabases,
  unexpectedOutcomes,
} from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { listDeadLetters, SAGA_MODES } from "@ftgo/platform";
import { describe, expect, it } from "vitest";

describe.each(SAGA_MODES)("SAGA_MODE=%s", (mode) => {
  // The victims come back: this is about recovery, not about the orchestrator giving up on a step.
  const fixture = useSagaMesh({ env: { SAGA_MODE: mode, SAGA_STEP_TIMEOUT_MS: "120000" } }, { nats: true });

  const VICTIMS = [
    { victim: "order", orders: 100 },
    { victim: "consumer", orders: 100 },
    { victim: "kitchen", orders: 100 },
    { victim: "accounting", orders: 100 },
  ] as const;

  describe.sequential("a participant killed with SIGKILL mid-saga, then restarted", () => {
    it.each(VICTIMS)(
      "$victim: all $orders orders settle, none is charged twice, no rejected order leaves a ticket to cook",
      async ({ victim, orders }) => {
        const { mesh, clients, dbs, nc } = fixture;
        const target = mesh[victim];
        const mark = orderMark(dbs);
        let crash: Promise<void> | undefined;
        // A third of the orders are placed before the kill, the rest while it is down and after it is back,
        // so the victim has messages in flight when it dies and a backlog when it returns.
        const placed = await placeOrders(clients, orders, {
          retryUnavailableForMs: 30_000,
          onPlaced: (count) => {
            if (count === Math.floor(orders / 3)) {
              crash = target.kill("SIGKILL").then(() => target.restart());
            }
          },
        });
        await crash;

        // Killing Order can commit an order whose caller never hears of it: the database, not `placed`, is the truth.
        const orderIds = ordersSince(dbs, mark);
        expect(orderIds.length).toBeGreaterThanOrEqual(orders);
        expect(orderIds).toEqual(expect.arrayContaining(placed.map((order) => order.orderId)));
        const sagas = await sagasSettleInDatabases(dbs, orderIds, {
          timeoutMs: 60_000,
          mode,
          context: () => mesh.output(),
        });

        const report = auditSagas(dbs, orderIds, mode);
        expect(report.violations).toEqual([]);
        expect(report.counts).toMatchObject({ orders: orderIds.length, unsettled: 0, doubleCharges: 0 });
        expect(report.counts.ticketsToCookForRejectedOrders).toBe(0);
        expect(unexpectedOutcomes(sagas, mode)).toEqual([]);
        expect(eventsPublishedTwice(dbs, orderIds)).toEqual([]);
        expect(await grpcDisagreements(clients, sagas)).toEqual([]);
        expect(await listDeadLetters(nc)).toEqual([]);
        expect(mesh.crashes()).toEqual([]);
      },
      90_000,
    );
  });
});
