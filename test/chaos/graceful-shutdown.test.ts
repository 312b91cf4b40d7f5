// Graceful shutdown under load: each service in turn gets SIGTERM — what an orchestrator sends on a
// deploy or a scale-down — while orders are being placed and tickets accepted, and is restarted on the
// same port and database once it has gone. Unlike SIGKILL (participant-crash.test.ts), this is the
// orderly stop: the process must exit by itself, with code 0 (every stop step succeeded, onShutdown in
// shutdown.ts), well within the harness's 10 s before it would SIGKILL it. And it must lose nothing:
// every saga ends, and ends right, none charged twice, no event published twice, no dead letter, every
// accepted ticket gets its delivery. What only a graceful stop promises, checked too: no call the
// stopped service had accepted is cut off — the orders committed are exactly the orders whose callers
// got an answer (after a SIGKILL of Order there may be more: committed, answer lost, placed again).

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@ftgo/harness/mesh-clients.js";
import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import {
  grpcDisagreements,
  orderMark,
  ordersSince,
  placeOrders,
  SAGA_PATHS,
  sagasSettleInDatabases,
  unexpectedOutcomes,
} from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import type { ServiceInstance } from "@ftgo/harness/service-instance.js";
import { describeExit } from "@ftgo/harness/service-process.js";
import { type DatabaseLocation, listDeadLetters, openExistingDatabase } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { describe, expect, it } from "vitest";

/** The harness SIGKILLs a process that outlives this after SIGTERM (service-instance.ts): a graceful stop ends sooner. */
const HARNESS_GRACE_MS = 10_000;
const MODE = "choreography";
const APPROVED = SAGA_PATHS.find((path) => path.name === "approved");
if (!APPROVED) throw new Error("no approved seed path");

// One saga mode: the graceful stop is the platform's (saga-service.ts, shutdown.ts), the same in both.
describe(`SAGA_MODE=${MODE}`, () => {
  const fixture = useSagaMesh({ env: { SAGA_MODE: MODE } }, { nats: true });

  const VICTIMS = [
    { victim: "order", orders: 80 },
    { victim: "consumer", orders: 80 },
    { victim: "kitchen", orders: 80 },
    { victim: "accounting", orders: 80 },
    { victim: "delivery", orders: 80 },
  ] as const;
  /** Approved orders placed before each round, whose tickets are accepted while the victim stops: Delivery's work. */
  const TICKETS = 12;

  describe.sequential("a service stopped with SIGTERM while orders flow, then restarted", () => {
    it.each(VICTIMS)(
      "$victim: exits by itself with code 0, cuts off no call it accepted, and all $orders orders settle, none charged twice, every accepted ticket delivered",
      async ({ victim, orders }) => {
        const { mesh, clients, dbs, nc } = fixture;
        const target = mesh[victim];

        // Orders whose tickets the restaurant accepts during the round: Kitchen's AcceptTicket calls and its
        // ScheduleDelivery commands to Delivery are in flight too when the victim gets SIGTERM.
        const ready = await placeOrders(clients, TICKETS, { paths: [APPROVED] });
        const toAccept = ready.map((order) => order.orderId);
        await sagasSettleInDatabases(dbs, toAccept, { mode: MODE, context: () => mesh.output() });

        const mark = orderMark(dbs);
        let stopping: Promise<GracefulStop> | undefined;
        // A third of the orders are placed before SIGTERM, the rest while it stops, while it is down and
        // after it is back. Half the tickets are accepted just before SIGTERM, the rest while it stops.
        const placed = await placeOrders(clients, orders, {
          retryUnavailableForMs: 30_000,
          onPlaced: (count) => {
            if (count !== Math.floor(orders / 3)) return;
            stopping = (async () => {
              const half = Math.ceil(toAccept.length / 2);
              await acceptTickets(clients, toAccept.slice(0, half));
              const rest = acceptTickets(clients, toAccept.slice(half));
              const stop = await stopGracefully(target);
              await target.restart();
              await rest;
              return stop;
            })();
          },
        });
        const stop = await stopping;

        // An orderly stop: it exited by itself, code 0, before the harness would have killed it.
        expect(stop).toBeDefined();
        expect(stop?.exit).toBe(describeExit({ code: 0, signal: null }));
        expect(stop?.ms).toBeLessThan(HARNESS_GRACE_MS);

        // No accepted call cut off: every order in Order's database is one whose caller got its answer,
        // none placed twice by a retry (a SIGKILL of Order may leave more here than `placed`).
        const orderIds = ordersSince(dbs, mark);
        expect([...orderIds].sort()).toEqual(placed.map((order) => order.orderId).sort());

        // Not asserted, as it does happen: a message JetStream hands the stopping process just as it stops
        // pulling is neither handled nor nak'd, and comes back to the restarted one after the ack wait (10 s).
        // Late, never lost (the inbox would drop a second copy); the timeouts here allow for it.
        const sagas = await sagasSettleInDatabases(dbs, orderIds, {
          timeoutMs: 60_000,
          mode: MODE,
          context: () => mesh.output(),
        });
        const report = auditSagas(dbs, orderIds, MODE);
        expect(report.violations).toEqual([]);
        expect(report.counts).toMatchObject({ orders: orderIds.length, unsettled: 0, doubleCharges: 0 });
        expect(report.counts.ticketsToCookForRejectedOrders).toBe(0);
        expect(unexpectedOutcomes(sagas, MODE)).toEqual([]);
        expect(await grpcDisagreements(clients, sagas)).toEqual([]);

        // Every accepted ticket reached Delivery exactly once, and Delivery announced it once.
        const deliveries = await deliveriesOf(mesh.database.location("delivery"), toAccept);
        expect(deliveries.scheduled.sort()).toEqual([...toAccept].sort());
        expect(deliveries.publishedTwice).toEqual([]);
        const ticketState = dbs.kitchen.prepare<[string], { state: string }>(
          "SELECT state FROM tickets WHERE order_id = ?",
        );
        expect(toAccept.map((orderId) => ticketState.get(orderId)?.state)).toEqual(toAccept.map(() => "ACCEPTED"));

        expect(eventsPublishedTwice(dbs, [...orderIds, ...toAccept])).toEqual([]);
        expect(await listDeadLetters(nc)).toEqual([]);
        expect(mesh.crashes()).toEqual([]);
      },
      90_000,
    );
  });
});

interface GracefulStop {
  /** How the process ended, in the harness's words: "exited with code 0", "was killed by SIGKILL". */
  readonly exit: string;
  /** From SIGTERM to the exit. */
  readonly ms: number;
}

/**
 * SIGTERM, and how the process ended. kill() resolves once it has exited (or been SIGKILLed after the
 * harness's grace); the harness writes the exit into the instance's output as "── kitchen (pid 123) exited
 * with code 0 ──" before kill() resolves, and nothing of that process comes after it.
 */
async function stopGracefully(target: ServiceInstance): Promise<GracefulStop> {
  const pid = target.pid;
  const started = performance.now();
  await target.kill("SIGTERM");
  const ms = performance.now() - started;
  const prefix = `── ${target.label} (pid ${pid}) `;
  const line = target
    .output()
    .split("\n")
    .findLast((text) => text.startsWith(prefix));
  return { exit: line ? line.slice(prefix.length).replace(/ ──$/, "") : "no exit recorded", ms };
}

/** Accepts each order's ticket, 4 at a time, retrying while Kitchen is down (AcceptTicket is idempotent). */
async function acceptTickets(clients: MeshClients, orderIds: readonly string[]): Promise<void> {
  const readyBy = timestampFromDate(new Date(Date.now() + 30 * 60_000));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < orderIds.length; i = next++) {
      const orderId = orderIds[i] as string;
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await clients.kitchen.acceptTicket({ orderId, readyBy });
          break;
        } catch (err) {
          if (ConnectError.from(err).code !== Code.Unavailable || Date.now() >= deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100)); // back off, not a synchronisation
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** Waits until Delivery has recorded a delivery for each of `orderIds`; reads its own database, read-only. */
async function deliveriesOf(
  where: DatabaseLocation,
  orderIds: readonly string[],
): Promise<{ scheduled: string[]; publishedTwice: string[] }> {
  const db = openExistingDatabase(where, { readonly: true });
  try {
    const wanted = new Set(orderIds);
    const scheduled = await waitFor(
      () => {
        const rows = db
          .prepare<[], { order_id: string }>("SELECT order_id FROM deliveries")
          .all()
          .map((row) => row.order_id)
          .filter((orderId) => wanted.has(orderId));
        return rows.length === wanted.size && rows;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: "Delivery to schedule a delivery for every accepted ticket" },
    );
    const publishedTwice = db
      .prepare<[], { correlation_id: string; type: string; copies: number }>(
        "SELECT correlation_id, type, count(*) AS copies FROM outbox GROUP BY correlation_id, type HAVING count(*) > 1",
      )
      .all()
      .filter((row) => wanted.has(row.correlation_id))
      .map((row) => `delivery: ${row.type} × ${row.copies} for order ${row.correlation_id}`);
    return { scheduled, publishedTwice };
  } finally {
    db.close();
  }
}
