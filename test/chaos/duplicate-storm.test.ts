// Duplicate storm: every message of the saga is delivered three times. A republisher tails the event
// streams and publishes each message twice more with the same Ftgo-Message-Id and a fresh Nats-Msg-Id,
// so JetStream keeps every copy and only the receivers' inbox (processed_messages) stands between a copy
// and a second effect. The sagas must end exactly as with single delivery.
import { accountingSaga } from "@ftgo/accounting/saga";
import { consumerSaga } from "@ftgo/consumer/saga";
import { meshIsQuiet, type Republisher, startRepublisher } from "@ftgo/harness/jetstream-streams.js";
import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { grpcDisagreements, placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { kitchenSaga } from "@ftgo/kitchen/saga";
import { REPLY_SCHEMAS } from "@ftgo/order/orchestration";
import { orderSaga } from "@ftgo/order/saga";
import { listDeadLetters, SAGA_MODES, type SagaMode, type Subscription } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The message types each service handles in `mode`, read from its own saga.ts (building the list runs no handler). */
function subscribed(mode: SagaMode) {
  const order =
    mode === "orchestration"
      ? new Set(REPLY_SCHEMAS.map((schema) => schema.typeName)) // the orchestrator's replies
      : typesOf(orderSaga, mode);
  return {
    order,
    consumer: typesOf(consumerSaga, mode),
    kitchen: typesOf(kitchenSaga, mode),
    accounting: typesOf(accountingSaga, mode),
  };
}

function typesOf(saga: (deps: never) => Subscription[], mode: SagaMode): Set<string> {
  return new Set(saga({ mode } as never).map((subscription) => subscription.schema.typeName));
}

/**
 * Messages copied per cycle of the four paths (approved, declined, suspended, closed): the events of each
 * saga.ts; orchestrated, the commands and replies of definitions.ts (Order still publishes its own
 * events, but no saga participant reads them then, so their stream is not among those tailed).
 */
const MESSAGES_PER_CYCLE: Record<SagaMode, number> = { choreography: 6 + 6 + 4 + 4, orchestration: 8 + 8 + 2 + 4 };

describe.each(SAGA_MODES)("SAGA_MODE=%s", (mode) => {
  const fixture = useSagaMesh({ env: { SAGA_MODE: mode } }, { nats: true });
  let jsm: JetStreamManager;
  let republisher: Republisher;

  // Registered after useSagaMesh, so its beforeAll runs once the mesh and nc are up and, after-hooks running
  // in reverse, its afterAll stops the republisher before nc is closed and the mesh stopped under it.
  beforeAll(async () => {
    jsm = await jetstreamManager(fixture.nc);
    republisher = await startRepublisher(fixture.nc, { copies: 2 });
  }, 60_000);

  afterAll(async () => {
    await republisher?.stop();
  }, 60_000);

  describe.sequential("every message delivered three times", () => {
    it("ends every saga exactly as single delivery does: same states, one charge, one ticket, each message applied once", async () => {
      const { mesh, clients, dbs, nc } = fixture;
      const placed = await placeOrders(clients, 12, { concurrency: 4 }); // c-1001, c-1002, c-1003 at r-1; c-1001 at r-2
      const orderIds = placed.map((order) => order.orderId);
      const sagas = await sagasSettleInDatabases(dbs, orderIds, {
        timeoutMs: 45_000,
        mode,
        context: () => mesh.output(),
      });
      // Everything published has been copied twice, and every original and copy consumed.
      await waitFor(() => meshIsQuiet(nc, dbs, () => republisher.caughtUp(jsm)), {
        timeoutMs: 30_000,
        intervalMs: 200,
        message: () =>
          `the mesh to go quiet (${republisher.originals().length} originals, ${republisher.copies()} copies)`,
      });

      expect(unexpectedOutcomes(sagas, mode)).toEqual([]);
      const report = auditSagas(dbs, orderIds, mode);
      expect(report.violations).toEqual([]);
      expect(report.counts).toMatchObject({ orders: 12, approved: 3, rejected: 9, doubleCharges: 0 });
      expect(eventsPublishedTwice(dbs, orderIds)).toEqual([]);
      expect(await grpcDisagreements(clients, sagas)).toEqual([]);

      const originals = republisher.originals();
      expect(originals.length).toBeGreaterThanOrEqual(3 * MESSAGES_PER_CYCLE[mode]);
      expect(republisher.copies()).toBe(2 * originals.length);
      const handled = subscribed(mode);
      for (const [service, types] of Object.entries(handled) as [keyof typeof handled, Set<string>][]) {
        // Each message the service handles is recorded once; none it does not handle, no copy as a message of its own.
        const processed = dbs[service]
          .prepare<[], { message_id: string }>("SELECT message_id FROM processed_messages")
          .all()
          .map((row) => row.message_id)
          .sort();
        const delivered = originals
          .filter((message) => types.has(message.type))
          .map((message) => message.messageId)
          .sort();
        expect(processed, `${service}'s processed_messages`).toEqual(delivered);
      }
      expect(await listDeadLetters(nc)).toEqual([]);
      expect(mesh.crashes()).toEqual([]);
    }, 90_000);
  });
});
