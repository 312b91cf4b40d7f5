// The Go Loyalty service under the duplicate storm (see duplicate-storm.test.ts): every message on every
// stream, Order's events and Loyalty's own PointsEarned included, is delivered three times with the same
// Ftgo-Message-Id. Only Loyalty's processed_messages stands between a copy and a second credit: each order
// must be credited once and announced once, in both saga modes.
import { LoyaltyService, OrderPointsState } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { meshIsQuiet, type Republisher, startRepublisher } from "@ftgo/harness/jetstream-streams.js";
import {
  countBy,
  expectedPoints,
  loyaltyOutboxCounts,
  loyaltySettles,
  pointsEarnedInStream,
} from "@ftgo/harness/loyalty-audit.js";
import { startLoyaltyBeside } from "@ftgo/harness/loyalty-process.js";
import { placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import type { ServiceInstance } from "@ftgo/harness/service-instance.js";
import {
  createGrpcClient,
  createGrpcTransport,
  listDeadLetters,
  openExistingDatabase,
  SAGA_MODES,
} from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The Order events Loyalty handles (go/internal/loyalty/events.go). */
const LOYALTY_TYPES = new Set(
  ["OrderCreated", "OrderApproved", "OrderRejected", "OrderCancelled"].map((name) => `ftgo.order.v1.${name}`),
);

describe.each(SAGA_MODES)("SAGA_MODE=%s", (mode) => {
  const fixture = useSagaMesh({ env: { SAGA_MODE: mode } }, { nats: true });
  let loyalty: ServiceInstance;
  let transport: ReturnType<typeof createGrpcTransport>;
  let jsm: JetStreamManager;
  let republisher: Republisher;

  // Loyalty starts before the republisher, so that its stream exists and is tailed (and copied) too.
  beforeAll(async () => {
    const { mesh, nc } = fixture;
    loyalty = await startLoyaltyBeside(mesh, { SAGA_MODE: mode });
    transport = createGrpcTransport({ address: loyalty.address });
    jsm = await jetstreamManager(nc);
    republisher = await startRepublisher(nc, { copies: 2 });
  }, 300_000);

  afterAll(async () => {
    await republisher?.stop();
    transport?.close();
    await loyalty?.stop();
  }, 60_000);

  it("credits each approved order once and publishes PointsEarned once per order", async () => {
    const { mesh, clients, dbs, nc } = fixture;
    const client = createGrpcClient(LoyaltyService, transport);
    const placed = await placeOrders(clients, 12, { concurrency: 4 }); // 3 approved (c-1001 at r-1), 9 rejected
    const orderIds = placed.map((order) => order.orderId);
    const sagas = await sagasSettleInDatabases(dbs, orderIds, {
      timeoutMs: 60_000,
      mode,
      context: () => mesh.output(),
    });
    expect(unexpectedOutcomes(sagas, mode)).toEqual([]);

    const expected = expectedPoints(dbs, orderIds);
    for (const [orderId, { approved, points }] of expected) {
      const settled = await loyaltySettles(client, orderId, { context: () => loyalty.output() });
      expect(settled).toMatchObject({
        state: approved ? OrderPointsState.EARNED : OrderPointsState.NONE,
        points: BigInt(points),
      });
    }
    // Every original and both its copies delivered and acknowledged, Loyalty's durables included.
    await waitFor(() => meshIsQuiet(nc, dbs, () => republisher.caughtUp(jsm)), {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: () =>
        `the mesh to go quiet (${republisher.originals().length} originals, ${republisher.copies()} copies)`,
    });

    const approved = [...expected].filter(([, e]) => e.approved);
    expect(approved).toHaveLength(3);
    const outbox = loyaltyOutboxCounts(mesh.database.location("loyalty"));
    const announced = countBy(await pointsEarnedInStream(nc), (event) => event.orderId);
    for (const [orderId] of approved) {
      expect(outbox.get(orderId), `${orderId}'s PointsEarned rows`).toBe(1);
      expect(announced.get(orderId), `${orderId}'s PointsEarned in the stream`).toBe(1);
    }
    const { account } = await client.getAccount({ consumerId: "c-1001" });
    expect(account?.pointsBalance).toBe(BigInt(approved.reduce((sum, [, e]) => sum + e.points, 0)));
    expect(account?.ordersRewarded).toBe(3n);

    // Each Order event Loyalty handles is recorded once, and no copy as a message of its own.
    const db = openExistingDatabase(mesh.database.location("loyalty"), { readonly: true });
    try {
      const processed = db
        .prepare<[], { message_id: string }>("SELECT message_id FROM processed_messages")
        .all()
        .map((row) => row.message_id)
        .sort();
      const delivered = republisher
        .originals()
        .filter((message) => LOYALTY_TYPES.has(message.type))
        .map((message) => message.messageId)
        .sort();
      expect(processed).toEqual(delivered);
    } finally {
      db.close();
    }
    expect(await listDeadLetters(nc, { service: "loyalty" })).toEqual([]);
    expect(loyalty.crashes).toEqual([]);
    expect(mesh.crashes()).toEqual([]);
  }, 240_000);
});
