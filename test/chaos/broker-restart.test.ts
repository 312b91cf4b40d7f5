// The broker dies: nats-server is killed with SIGKILL while sagas are in flight, orders keep coming in
// while it is down (CreateOrder needs only gRPC and Order's database; the outbox holds the events), and
// it comes back on the same port with the same JetStream store. Every saga must end, nothing lost.

import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { grpcDisagreements, placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { listDeadLetters, SAGA_MODES } from "@ftgo/platform";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

const ORDERS = 60;
/** The broker dies after this many orders are placed… */
const KILL_AT = 20;
/** …and comes back after this many more: these are placed while it is down. */
const DOWN_FOR = 15;

describe.each(SAGA_MODES)("SAGA_MODE=%s", (mode) => {
  // The broker comes back: this is about recovery, not about the orchestrator giving up on a step.
  const fixture = useSagaMesh({ env: { SAGA_MODE: mode, SAGA_STEP_TIMEOUT_MS: "120000" } });

  describe.sequential("nats-server killed with SIGKILL mid-run and restarted on the same store", () => {
    it(`settles all ${ORDERS} orders, ${DOWN_FOR} of them placed while the broker was down, and loses none`, async () => {
      const { mesh, clients, dbs } = fixture;
      let restarted: Promise<void> | undefined;
      const placed = await placeOrders(clients, ORDERS, {
        concurrency: 8,
        onPlaced: (count) => {
          if (count === KILL_AT) mesh.nats.kill("SIGKILL");
          if (count === KILL_AT + DOWN_FOR) restarted = mesh.nats.restart();
        },
      });
      await restarted;
      const orderIds = placed.map((order) => order.orderId);
      const sagas = await sagasSettleInDatabases(dbs, orderIds, {
        timeoutMs: 60_000,
        mode,
        context: () => mesh.output(),
      });

      expect(unexpectedOutcomes(sagas, mode)).toEqual([]);
      const report = auditSagas(dbs, orderIds, mode);
      expect(report.violations).toEqual([]);
      expect(report.counts).toMatchObject({ orders: ORDERS, unsettled: 0, doubleCharges: 0 });
      expect(eventsPublishedTwice(dbs, orderIds)).toEqual([]);
      expect(await grpcDisagreements(clients, sagas)).toEqual([]);
      const nc = await connect({ servers: mesh.nats.url });
      try {
        expect(await listDeadLetters(nc)).toEqual([]);
      } finally {
        await nc.close();
      }
      expect(mesh.crashes()).toEqual([]);
    }, 90_000);
  });
});
