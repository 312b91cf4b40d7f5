// The outbox's reason to exist: Order commits an order and its OrderCreated in one transaction, then
// dies before the relay has published it. The broker is made unreachable (frozen, or killed) so that
// the relay cannot publish, Order is killed with SIGKILL, the broker recovers, Order restarts: the
// committed OrderCreated must leave after the restart, be stored once, and be applied once by each receiver.

import { storedMessageIds } from "@ftgo/harness/jetstream-streams.js";
import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { listDeadLetters } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";

const fixture = useSagaMesh();

// Registered after useSagaMesh, so it runs first of the two (after-hooks run in reverse), before the mesh stops.
afterAll(() => {
  fixture.mesh.nats.kill("SIGCONT"); // never leave the broker frozen, whatever failed
});

interface OutboxRow {
  message_id: string;
  subject: string;
  created_at: number;
  published_at: number | null;
}

function orderCreatedRow(orderId: string): OutboxRow | undefined {
  return fixture.dbs.order
    .prepare<[string], OutboxRow>(
      `SELECT message_id, subject, created_at, published_at FROM outbox
       WHERE correlation_id = ? AND type = 'ftgo.order.v1.OrderCreated'`,
    )
    .get(orderId);
}

/** Two ways for the broker to be unreachable when Order dies. */
const OUTAGES = [
  {
    // The relay's publish may already sit in the frozen server's socket buffer: the dead process's copy can
    // then be stored on thaw, and the restarted relay's copy must be recognised as the same message.
    broker: "frozen (SIGSTOP)",
    fail: () => fixture.mesh.nats.kill("SIGSTOP"),
    recover: async () => fixture.mesh.nats.kill("SIGCONT"),
  },
  {
    // The client holds the publish in its own memory while reconnecting: it dies with Order, so only the
    // restarted relay can publish it.
    broker: "down (SIGKILL)",
    fail: () => fixture.mesh.nats.kill("SIGKILL"),
    recover: () => fixture.mesh.nats.restart(),
  },
];

describe.sequential("Order crashes between committing an order and publishing its OrderCreated", () => {
  it.each(OUTAGES)(
    "with the broker $broker: the restarted Order publishes it, JetStream stores it once, each receiver applies it once",
    async ({ fail, recover }) => {
      const { mesh, clients, dbs } = fixture;
      // One saga first, so that the streams, durables and connections all exist before the broker goes.
      const warmUp = await placeOrderOverGrpc(clients, "c-1001");
      await sagasSettleInDatabases(dbs, [warmUp.orderId], { timeoutMs: 30_000, context: () => mesh.output() });

      fail();
      let orderId: string;
      try {
        // CreateOrder needs only Kitchen (gRPC) and Order's own database: it answers without the broker.
        orderId = (await placeOrderOverGrpc(clients, "c-1001")).orderId;
      } finally {
        await mesh.order.kill("SIGKILL");
        await recover();
      }
      const committed = orderCreatedRow(orderId);
      expect(committed, "OrderCreated committed with the order").toBeDefined();
      expect(committed?.published_at, "the relay had not published it when Order died").toBeNull();

      const restartedAt = Date.now();
      await mesh.order.restart();
      const published = await waitFor(
        () => orderCreatedRow(orderId)?.published_at != null && orderCreatedRow(orderId),
        {
          timeoutMs: 20_000,
          message: "the restarted relay to publish OrderCreated",
        },
      );
      expect(published.published_at).toBeGreaterThanOrEqual(restartedAt);
      const [saga] = await sagasSettleInDatabases(dbs, [orderId], { timeoutMs: 30_000, context: () => mesh.output() });
      expect(unexpectedOutcomes(saga ? [saga] : [])).toEqual([]);

      const nc = await connect({ servers: mesh.nats.url });
      try {
        const stored = await storedMessageIds(nc, "FTGO_ORDER_EVENTS", published.subject);
        expect(
          stored.filter((id) => id === published.message_id),
          "copies in FTGO_ORDER_EVENTS",
        ).toHaveLength(1);
        expect(await listDeadLetters(nc)).toEqual([]);
      } finally {
        await nc.close();
      }
      for (const receiver of ["consumer", "kitchen", "accounting"] as const) {
        const applied = dbs[receiver]
          .prepare<[string], { n: number }>("SELECT count(*) AS n FROM processed_messages WHERE message_id = ?")
          .get(published.message_id);
        expect(applied?.n, `${receiver} recorded it`).toBe(1);
      }
      // Applied once in effect too: one verification, one ticket, one authorization, each created once.
      expect(dbs.consumer.prepare("SELECT count(*) AS n FROM verifications WHERE order_id = ?").get(orderId)).toEqual({
        n: 1,
      });
      expect(auditSagas(dbs).violations).toEqual([]);
      expect(eventsPublishedTwice(dbs)).toEqual([]);
      expect(mesh.crashes()).toEqual([]);
    },
    90_000,
  );
});
