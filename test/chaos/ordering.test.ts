// Competing receivers: two Kitchen and two Accounting processes share their service's database and
// compete for the same partition durables. One message per partition in flight (max_ack_pending: 1)
// must keep each order's events handled one at a time, in order, so no participant ever records a
// state change its state machine does not allow.
// What this test cannot see: in the saga, the messages one participant gets for one order on one stream are
// causally spaced (each exists only after the one before was handled), so even a durable that let eight through
// at once leaves this test green (tried: max_ack_pending 8). The partition rule itself is proven, and fails at
// max_ack_pending 8, by packages/platform/test/messaging-consumer.test.ts: 200 messages of 20 orders in bursts,
// two competing instances, nine first attempts failing.

import { eventStreams } from "@ftgo/harness/jetstream-streams.js";
import { auditSagas, eventsPublishedTwice } from "@ftgo/harness/saga-audit.js";
import { placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { listDeadLetters } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

const ORDERS = 200;

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
});
