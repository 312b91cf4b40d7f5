import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TicketCreatedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { eventSubject, partitionOf } from "../src/messaging/channels.js";
import { type ConsumersOptions, startConsumers } from "../src/messaging/consumer.js";
import { encodeBody, envelopeHeaders, toNatsHeaders } from "../src/messaging/envelope.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { startOutboxRelay } from "../src/messaging/relay.js";
import { type MessageContext, on } from "../src/messaging/subscriptions.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated } from "./message-fixtures.js";

// The consuming service's own table: what its handler did, in commit order.
const KITCHEN_SCHEMA = [
  `CREATE TABLE handled (
     seq        INTEGER PRIMARY KEY AUTOINCREMENT,
     order_id   TEXT NOT NULL,
     message_id TEXT NOT NULL,
     instance   TEXT NOT NULL
   )`,
];
const log = silentLogger();

describe("startConsumers", () => {
  let nc: NatsConnection;
  let dir: string;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    dir = mkdtempSync(join(tmpdir(), "ftgo-consumer-"));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A consuming service's database (one file per `name`; open it twice for two instances). */
  function openKitchen(name: string) {
    const db = openDatabase(join(dir, `${name}.db`), KITCHEN_SCHEMA);
    cleanups.push(() => db.close());
    const outbox = createOutbox(db);
    const record = db.prepare("INSERT INTO handled (order_id, message_id, instance) VALUES (?, ?, ?)");
    const handled = (orderIds: readonly string[]) =>
      (db.prepare("SELECT * FROM handled ORDER BY seq").all() as HandledRow[]).filter((row) =>
        orderIds.includes(row.order_id),
      );
    return { db, outbox, record, handled };
  }

  async function consume(options: Omit<ConsumersOptions, "nc" | "log"> & { nc?: NatsConnection }) {
    const consumers = await startConsumers({ nc, log, ...options });
    cleanups.push(() => consumers.stop());
    return consumers;
  }

  /** The order service's side: events written through its outbox and published by its relay. */
  function openOrderService() {
    const db = openDatabase(join(dir, `order-${randomUUID()}.db`), []);
    const outbox = createOutbox(db);
    const relay = startOutboxRelay({ db, nc, log });
    cleanups.push(
      () => db.close(),
      () => relay.stop(),
    );
    const createOrder = (orderId: string) =>
      db.transaction(() => outbox.append(OrderCreatedSchema, anOrderCreated(orderId), { correlationId: orderId }))();
    return { createOrder, relay };
  }

  it("commits the handler's changes, its outbox rows and the processed id together, and acks after the commit", async () => {
    const kitchen = openKitchen(randomUUID());
    const orderId = `order-${randomUUID()}`;
    const deliveries: MessageContext[] = [];
    await consume({
      db: kitchen.db,
      outbox: kitchen.outbox,
      service: unique("kitchen"),
      onDelivery: (ctx) => ctx.correlationId === orderId && deliveries.push(ctx),
      subscriptions: [
        on(OrderCreatedSchema, (event, ctx) => {
          if (event.orderId !== orderId) return; // another test's order
          kitchen.record.run(orderId, ctx.messageId, "k");
          ctx.publish(TicketCreatedSchema, { orderId, restaurantId: "r-1" });
          if (ctx.deliveryCount === 1) throw new Error("the first attempt fails after doing everything");
        }),
      ],
    });

    const messageId = openOrderService().createOrder(orderId);

    await waitFor(() => kitchen.handled([orderId]).length === 1, { message: "handled on the second delivery" });
    expect(deliveries.map((ctx) => ctx.deliveryCount)).toEqual([1, 2]); // not acked after the failure
    const outbox = kitchen.db.prepare("SELECT type, correlation_id, causation_id FROM outbox").all();
    expect(outbox).toEqual([
      { type: "ftgo.kitchen.v1.TicketCreated", correlation_id: orderId, causation_id: messageId },
    ]);
    const processed = kitchen.db.prepare("SELECT message_id, type FROM processed_messages").all();
    expect(processed).toContainEqual({ message_id: messageId, type: "ftgo.order.v1.OrderCreated" });
  });

  it("acknowledges a message delivered three times, and applies it once", async () => {
    const kitchen = openKitchen(randomUUID());
    const orderId = `order-${randomUUID()}`;
    let deliveries = 0;
    await consume({
      db: kitchen.db,
      outbox: kitchen.outbox,
      service: unique("kitchen"),
      onDelivery: (ctx) => void (ctx.correlationId === orderId && deliveries++),
      subscriptions: [on(OrderCreatedSchema, (event, ctx) => kitchen.record.run(event.orderId, ctx.messageId, "k"))],
    });
    const js = jetstream(nc);
    const publish = (messageId: string, natsMsgId: string) =>
      js.publish(
        eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
        encodeBody(OrderCreatedSchema, anOrderCreated(orderId)),
        {
          headers: toNatsHeaders(
            envelopeHeaders({ messageId, type: OrderCreatedSchema.typeName, correlationId: orderId }),
          ),
          msgID: natsMsgId,
        },
      );
    const duplicate = randomUUID();

    // The same message (same Ftgo-Message-Id) three times, as a replay or a republish after the
    // duplicate window would send it; then another message of the same order, behind them.
    await publish(duplicate, duplicate);
    await publish(duplicate, `${duplicate}.again.1`);
    await publish(duplicate, `${duplicate}.again.2`);
    const next = randomUUID();
    await publish(next, next);

    await waitFor(() => kitchen.handled([orderId]).length === 2, { message: "both messages handled" });
    expect(deliveries).toBe(4);
    expect(kitchen.handled([orderId]).map((row) => row.message_id)).toEqual([duplicate, next]);
  });

  it("lets two instances compete for 200 messages over 20 orders, keeping each order's messages in order and one at a time", async () => {
    const name = randomUUID();
    const instances = [openKitchen(name), openKitchen(name)]; // two processes' connections to one file…
    const service = unique("kitchen");
    const orderIds = Array.from({ length: 20 }, (_, i) => `order-${randomUUID()}-${i}`);
    /** Each order's message ids, in publishing order. */
    const published = new Map<string, string[]>(orderIds.map((id) => [id, []]));
    /** Messages whose first attempt fails: the messages behind them must wait, not overtake. */
    const failOnce = new Set<string>();
    /** Deliveries that arrived before an earlier message of their order had committed. */
    const overtaking: string[] = [];
    for (const [index, kitchen] of instances.entries()) {
      const own = await connect({ servers: inject("natsUrl") }); // …and to NATS
      cleanups.push(() => own.close());
      await consume({
        nc: own,
        db: kitchen.db,
        outbox: kitchen.outbox,
        service,
        onDelivery(ctx) {
          const position = published.get(ctx.correlationId)?.indexOf(ctx.messageId) ?? -1;
          if (position > kitchen.handled([ctx.correlationId]).length) overtaking.push(ctx.messageId);
        },
        subscriptions: [
          on(OrderCreatedSchema, (event, ctx) => {
            if (!published.has(event.orderId)) return; // another test's order
            if (failOnce.has(ctx.messageId) && ctx.deliveryCount === 1) throw new Error("a passing fault");
            kitchen.record.run(event.orderId, ctx.messageId, `instance-${index}`);
          }),
        ],
      });
    }
    const order = openOrderService();

    for (let i = 0; i < 200; i++) {
      const orderId = orderIds[i % 20] as string;
      const messageId = order.createOrder(orderId);
      published.get(orderId)?.push(messageId);
      if (i % 23 === 0) failOnce.add(messageId); // nine messages, of nine orders
    }
    order.relay.kick();

    const rows = await waitFor(() => instances[0]?.handled(orderIds).length === 200 && instances[0].handled(orderIds), {
      timeoutMs: 25_000,
      message: () => `200 messages handled (so far ${instances[0]?.handled(orderIds).length})`,
    });
    for (const orderId of orderIds) {
      expect(rows.filter((row) => row.order_id === orderId).map((row) => row.message_id)).toEqual(
        published.get(orderId),
      );
    }
    expect(overtaking).toEqual([]);
    expect(new Set(rows.map((row) => row.instance))).toEqual(new Set(["instance-0", "instance-1"]));
  });

  it("on stop(), finishes the message in flight: committed and acknowledged", async () => {
    const kitchen = openKitchen(randomUUID());
    const orderId = `order-${randomUUID()}`;
    const service = unique("kitchen");
    let stopping: Promise<void> | undefined;
    const consumers = await consume({
      db: kitchen.db,
      outbox: kitchen.outbox,
      service,
      onDelivery(ctx) {
        if (ctx.correlationId === orderId) stopping = consumers.stop(); // the process is told to stop, right now
      },
      subscriptions: [on(OrderCreatedSchema, (event, ctx) => kitchen.record.run(event.orderId, ctx.messageId, "k"))],
    });

    openOrderService().createOrder(orderId);
    await waitFor(() => stopping !== undefined, { message: "stop requested during a delivery" });
    await stopping;

    expect(kitchen.handled([orderId])).toHaveLength(1);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info("FTGO_ORDER_EVENTS", `${service}-p${partitionOf(orderId, 4)}`);
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
  });
});

interface HandledRow {
  seq: number;
  order_id: string;
  message_id: string;
  instance: string;
}

/** A service name no other test uses: durables are global to the server. */
function unique(service: string): string {
  return `${service}-${randomUUID().slice(0, 8)}`;
}
