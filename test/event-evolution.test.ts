// Events evolve in both directions at once, on real JetStream. OrderCreated gained `delivery_address` (6) and
// `deliver_at` (7) after release v1.0.0. A consumer built from the release still reads today's events: the
// robustness principle's "be liberal in what you accept", which protobuf keeps by skipping unknown fields
// (protobuf-es keeps them in `$unknown`, so re-encoding loses nothing). And today's services still take their
// saga steps for an event written with the release, where the new fields are absent and read as defaults.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuthorizationState } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderCreatedSchema as OrderCreatedToday } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import {
  createOutbox,
  DEFAULT_PARTITIONS,
  eventSubject,
  type MessageContext,
  messageHeaders,
  on,
  openDatabase,
  partitionOf,
  readEnvelope,
  silentLogger,
  startConsumers,
  startOutboxRelay,
} from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type OrderCreated, OrderCreatedSchema as OrderCreatedReleased, RELEASE } from "./old-clients-contract.js";

const log = silentLogger();
const fieldNames = (schema: { fields: { name: string }[] }) => schema.fields.map((field) => field.name);

it("OrderCreated gained its delivery after release v1.0.0", () => {
  // What the tests below stand on: if the release already had these fields, they would prove equality, not skipping.
  expect(RELEASE.version).toBe("1.0.0");
  expect(fieldNames(OrderCreatedReleased)).not.toContain("delivery_address");
  expect(fieldNames(OrderCreatedReleased)).not.toContain("deliver_at");
  expect(fieldNames(OrderCreatedToday)).toEqual(expect.arrayContaining(["delivery_address", "deliver_at"]));
});

describe("a consumer built from release v1.0.0, reading today's OrderCreated", () => {
  let nc: NatsConnection;
  let dir: string;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    dir = mkdtempSync(join(tmpdir(), "ftgo-event-evolution-"));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await nc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Today's publisher: OrderCreated with a delivery, written to an outbox and published by its relay. */
  function publishTodaysOrderCreated(orderId: string, deliverAt: Date): string {
    const db = openDatabase(join(dir, `order-${randomUUID()}.db`), []);
    const outbox = createOutbox(db);
    const relay = startOutboxRelay({ db, nc, log });
    cleanups.push(
      () => db.close(),
      () => relay.stop(),
    );
    return db.transaction(() =>
      outbox.append(
        OrderCreatedToday,
        {
          orderId,
          consumerId: "c-1001",
          restaurantId: "r-1",
          lineItems: [{ menuItemId: "m-1", name: "Pho bo", quantity: 2 }],
          total: { currencyCode: "USD", minorUnits: 1300n },
          deliveryAddress: { street1: "1 Main St", city: "Oakland", postalCode: "94611" },
          deliverAt: timestampFromDate(deliverAt),
        },
        { correlationId: orderId },
      ),
    )();
  }

  /** The old consumer: the platform's own consumer, subscribed with the released OrderCreated descriptor. */
  async function startReleasedConsumer(orderId: string) {
    const db = openDatabase(join(dir, `old-consumer-${randomUUID()}.db`), []);
    const received: { event: OrderCreated; ctx: MessageContext }[] = [];
    const consumers = await startConsumers({
      nc,
      db,
      outbox: createOutbox(db),
      log,
      service: `old-consumer-${randomUUID().slice(0, 8)}`,
      subscriptions: [
        on(OrderCreatedReleased, (event, ctx) => {
          if (event.orderId === orderId) received.push({ event, ctx }); // other tests' orders share the stream
        }),
      ],
    });
    cleanups.push(
      () => db.close(),
      () => consumers.stop(),
    );
    return received;
  }

  it("decodes it: the fields it knows are right, the delivery is kept as unknown fields", async () => {
    const orderId = `order-${randomUUID()}`;
    const received = await startReleasedConsumer(orderId);
    const deliverAt = new Date("2026-12-24T18:30:00Z");
    const messageId = publishTodaysOrderCreated(orderId, deliverAt);

    const [{ event, ctx }] = await waitFor(() => (received.length > 0 ? received : undefined), {
      timeoutMs: 10_000,
      message: "the old consumer to handle today's OrderCreated",
    });
    // Nothing failed: handled on the first delivery, as the message the outbox wrote.
    expect(ctx.deliveryCount).toBe(1);
    expect(ctx.messageId).toBe(messageId);
    expect(event.$typeName).toBe("ftgo.order.v1.OrderCreated");
    expect(event).toMatchObject({ orderId, consumerId: "c-1001", restaurantId: "r-1" });
    expect(event.lineItems.map(({ menuItemId, name, quantity }) => [menuItemId, name, quantity])).toEqual([
      ["m-1", "Pho bo", 2],
    ]);
    expect(event.total?.minorUnits).toBe(1300n);
    // Skipped, not dropped: the two fields the release does not know, by their numbers on the wire.
    const unknown = (event.$unknown ?? []).map((field) => field.no);
    expect(unknown).toEqual([OrderCreatedToday.field.deliveryAddress.number, OrderCreatedToday.field.deliverAt.number]);

    // Re-encoded by the old code (a consumer that forwards or stores the event), they pass through intact.
    const forwarded = fromBinary(OrderCreatedToday, toBinary(OrderCreatedReleased, event));
    expect(forwarded.deliveryAddress).toMatchObject({ street1: "1 Main St", city: "Oakland", postalCode: "94611" });
    expect(forwarded.deliverAt && timestampDate(forwarded.deliverAt)).toEqual(deliverAt);
    expect(forwarded.orderId).toBe(orderId);
  });
});

describe("today's services, given an OrderCreated written with release v1.0.0", () => {
  let mesh: TestMesh;
  let clients: MeshClients;
  let nc: NatsConnection;
  beforeAll(async () => {
    // Under choreography Consumer, Kitchen and Accounting start their parts from OrderCreated itself.
    mesh = await startTestMesh({ SAGA_MODE: "choreography" });
    clients = meshClients(mesh);
    nc = await connect({ servers: mesh.nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    clients?.close();
    await mesh?.stop();
  });

  it("take their saga steps for it, reading the missing delivery as unset", async () => {
    const orderId = `old-${randomUUID()}`;
    const released = create(OrderCreatedReleased, {
      orderId,
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [
        { menuItemId: "m-1", name: "Pho bo", quantity: 2, price: { currencyCode: "USD", minorUnits: 650n } },
        { menuItemId: "m-3", name: "Ca phe sua da", quantity: 1, price: { currencyCode: "USD", minorUnits: 200n } },
      ],
      total: { currencyCode: "USD", minorUnits: 1500n },
    });
    const body = toBinary(OrderCreatedReleased, released);
    // What today's code reads from it: the fields the release had, and defaults (unset) for the delivery.
    const decoded = fromBinary(OrderCreatedToday, body);
    expect(decoded).toMatchObject({ orderId, consumerId: "c-1001", restaurantId: "r-1" });
    expect(decoded.deliveryAddress).toBeUndefined();
    expect(decoded.deliverAt).toBeUndefined();
    expect(decoded.$unknown).toBeUndefined();

    // Consumer's verdict is an event of its own; watched from before the publish so it cannot be missed.
    const verdicts: string[] = [];
    const watch = nc.subscribe("ftgo.consumer.event.*.*", {
      callback: (_err, msg) => {
        const envelope = readEnvelope(msg.headers);
        if (envelope.correlationId === orderId) verdicts.push(envelope.type);
      },
    });
    try {
      // Published as the released Order Service published it: its header, on its channel, via JetStream.
      const messageId = randomUUID();
      await jetstream(nc).publish(eventSubject(OrderCreatedReleased, partitionOf(orderId, DEFAULT_PARTITIONS)), body, {
        headers: messageHeaders({ messageId, type: OrderCreatedReleased.typeName, correlationId: orderId }),
        msgID: messageId,
      });

      // Kitchen created the ticket, Consumer verified the consumer, and Accounting, which charges only once it
      // has the order, the ticket and the verification, authorized the card; so Kitchen now awaits acceptance.
      const ticket = await waitFor(
        async () => {
          const { ticket } = await clients.kitchen.getTicket({ orderId });
          return ticket?.state === TicketState.AWAITING_ACCEPTANCE ? ticket : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 25, message: `ticket of ${orderId} awaiting acceptance` },
      );
      expect(ticket.lineItems.map(({ menuItemId, quantity }) => [menuItemId, quantity])).toEqual([
        ["m-1", 2],
        ["m-3", 1],
      ]);
      const { authorization } = await clients.accounting.getAuthorization({ orderId });
      expect(authorization?.state).toBe(AuthorizationState.AUTHORIZED);
      expect(authorization?.consumerId).toBe("c-1001");
      expect(authorization?.amount?.minorUnits).toBe(1500n);
      await waitFor(() => verdicts.length > 0, { message: `Consumer's verdict on ${orderId}` });
      expect(verdicts).toEqual(["ftgo.consumer.v1.ConsumerVerified"]);
    } finally {
      watch.unsubscribe();
    }
  });
});
