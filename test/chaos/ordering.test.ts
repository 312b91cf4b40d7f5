// Competing receivers: two Kitchen and two Accounting processes share their service's database and
// compete for the same partition durables. One message per partition in flight (max_ack_pending: 1)
// must keep each order's events handled one at a time, in order, so no participant ever records a
// state change its state machine does not allow.
// In the saga itself, the messages one participant gets for one order on one stream are causally spaced
// (each exists only after the one before was handled), so the first test would pass even with durables that
// let eight messages through at once (tried: max_ack_pending 8). The second test sends what the saga never
// does, two events of one order back to back on one stream, and fails then: the partition rule is what it sees.

import { randomUUID } from "node:crypto";
import { OrderCancelRequestedSchema, OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { eventStreams } from "@ftgo/harness/jetstream-streams.js";
import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { createOutbox, listDeadLetters, openDatabase, silentLogger, startOutboxRelay } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

const ORDERS = 200;
/** Orders sent as an OrderCreated and an OrderCancelRequested back to back. */
const BURSTS = 100;

const fixture = useSagaMesh({ instances: { kitchen: 2, accounting: 2 } });

describe.sequential("two instances each of Kitchen and Accounting, sharing their service's database", () => {
  it(`settles ${ORDERS} orders with every recorded state change allowed and chained`, async () => {
    const { mesh, clients, dbs } = fixture;
    // Both processes of each service are pulling from every one of its partition durables.
    const nc = await connect({ servers: mesh.nats.url });
    let pulling: string[] = [];
    try {
      const jsm = await jetstreamManager(nc);
      await waitFor(
        async () => {
          pulling = [];
          for (const stream of await eventStreams(jsm)) {
            for await (const durable of jsm.consumers.list(stream)) {
              if (/^(kitchen|accounting)-p\d+$/.test(durable.name))
                pulling.push(`${stream}/${durable.name}: ${durable.num_waiting}`);
            }
          }
          return pulling.length > 0 && pulling.every((line) => line.endsWith(": 2"));
        },
        { timeoutMs: 10_000, message: () => `two pulls waiting on every durable: ${pulling.join(", ")}` },
      );
    } finally {
      await nc.close();
    }

    const placed = await placeOrders(clients, ORDERS, { concurrency: 16 });
    const orderIds = placed.map((order) => order.orderId);
    const sagas = await sagasSettleInDatabases(dbs, orderIds, { timeoutMs: 75_000, context: () => mesh.output() });

    const report = auditSagas(dbs, orderIds);
    expect(report.violations).toEqual([]);
    expect(report.counts).toMatchObject({ orders: ORDERS, unsettled: 0, doubleCharges: 0, invalidTransitions: 0 });
    // Every order has at least its own creation plus one more change in each of the three machines.
    expect(report.counts.transitions).toBeGreaterThanOrEqual(ORDERS * 4);
    expect(unexpectedOutcomes(sagas)).toEqual([]);
    expect(eventsPublishedTwice(dbs, orderIds)).toEqual([]);
    const after = await connect({ servers: mesh.nats.url });
    try {
      expect(await listDeadLetters(after)).toEqual([]);
    } finally {
      await after.close();
    }
    expect(mesh.crashes()).toEqual([]);
  }, 90_000);

  it(`handles ${BURSTS} pairs of back-to-back events of one order in order: each ticket created, then cancelled`, async () => {
    const { mesh, dbs } = fixture;
    // Order's side of the pairs, as Order would send them: one transaction per order appending OrderCreated and
    // OrderCancelRequested to an outbox, published by the platform's relay (so both land in the order's
    // partition of Order's event stream, one right after the other). Order itself knows none of these orders
    // and ignores what comes back about them.
    const nc = await connect({ servers: mesh.nats.url });
    const db = openDatabase(":memory:", []);
    const relay = startOutboxRelay({ db, nc, log: silentLogger() });
    try {
      const outbox = createOutbox(db, { partitions: mesh.partitions });
      const orderIds = Array.from({ length: BURSTS }, () => `burst-${randomUUID()}`);
      const sendPair = db.transaction((orderId: string) => {
        const meta = { correlationId: orderId };
        outbox.append(
          OrderCreatedSchema,
          {
            orderId,
            consumerId: "c-1001",
            restaurantId: "r-1",
            lineItems: [{ menuItemId: "m-1", name: "Pho bo", quantity: 1 }],
            total: { currencyCode: "USD", minorUnits: 650n },
          },
          meta,
        );
        outbox.append(OrderCancelRequestedSchema, { orderId }, meta);
      });
      for (const orderId of orderIds) sendPair(orderId);
      relay.kick();

      // In order, every ticket is created and then cancelled. A cancel handled first finds no ticket (refused),
      // and the creation after it leaves a ticket that nobody cancels.
      const ticketStates = () => {
        const select = dbs.kitchen.prepare<[string], { state: string }>("SELECT state FROM tickets WHERE order_id = ?");
        return orderIds.map((id) => select.get(id)?.state ?? "none");
      };
      const states = await waitFor(
        () => {
          const now = ticketStates();
          return now.every((state) => state !== "none" && state !== "CREATE_PENDING") && now;
        },
        {
          timeoutMs: 60_000,
          message: () => `every burst ticket past CREATE_PENDING: ${JSON.stringify(count(ticketStates()))}`,
        },
      );
      expect(count(states)).toEqual({ CANCELLED: BURSTS });
    } finally {
      await relay.stop();
      db.close();
      await nc.close();
    }
  }, 90_000);
});

function count(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
