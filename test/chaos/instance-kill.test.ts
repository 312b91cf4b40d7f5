// Scaled out, then cut down: two processes of every saga participant, each pair sharing its service's
// database, and one of each pair killed with SIGKILL while orders are in flight — not restarted. The
// survivors must finish every saga alone: the killed instance's unacknowledged messages are redelivered to
// its twin (competing receivers on the same durables), its relay lease runs out and the twin's relay takes
// over the outbox, and the inbox drops whatever the killed one had already applied.

import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { grpcDisagreements, placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { listDeadLetters, SAGA_MODES, SERVICE_NAMES } from "@ftgo/platform";
import { describe, expect, it } from "vitest";

const ORDERS = 60;
/** The second instance of every service dies once this many orders are placed. */
const KILL_AT = 20;
/**
 * Generous: the killed instances' messages wait out their ack wait before the twins get them, and ten
 * processes share two cores with the rest of the suite.
 */
const SETTLE_MS = 150_000;

describe.each(SAGA_MODES)("SAGA_MODE=%s with two instances of every service", (mode) => {
  const instances = Object.fromEntries(SERVICE_NAMES.map((name) => [name, 2]));
  const fixture = useSagaMesh({ instances, env: { SAGA_MODE: mode, SAGA_STEP_TIMEOUT_MS: "120000" } }, { nats: true });

  it(
    `settles all ${ORDERS} orders, once each, when one instance of each service is killed mid-run`,
    async () => {
      const { mesh, clients, dbs, nc } = fixture;
      const victims = SERVICE_NAMES.map((name) => mesh.instances[name][1]);
      expect(victims.every((victim) => victim?.running)).toBe(true);
      let kills: Promise<unknown> | undefined;
      // Orders enter through the first Order instance; every other step may land on either instance of its service.
      const placed = await placeOrders(clients, ORDERS, {
        concurrency: 6,
        onPlaced: (count) => {
          if (count === KILL_AT) kills = Promise.all(victims.map((victim) => victim?.kill("SIGKILL")));
        },
      });
      await kills;
      expect(victims.every((victim) => !victim?.running)).toBe(true);

      const orderIds = placed.map((order) => order.orderId);
      const sagas = await sagasSettleInDatabases(dbs, orderIds, {
        timeoutMs: SETTLE_MS,
        mode,
        context: () => mesh.output(),
      });
      const report = auditSagas(dbs, orderIds, mode);
      expect(report.violations).toEqual([]); // among them: a state change the entity's machine does not allow
      expect(report.counts).toMatchObject({ orders: ORDERS, unsettled: 0, doubleCharges: 0, invalidTransitions: 0 });
      expect(unexpectedOutcomes(sagas, mode)).toEqual([]);
      expect(eventsPublishedTwice(dbs, orderIds)).toEqual([]);
      expect(await grpcDisagreements(clients, sagas)).toEqual([]);
      expect(await listDeadLetters(nc)).toEqual([]);
      expect(mesh.crashes()).toEqual([]);
    },
    SETTLE_MS + 120_000,
  );
});
