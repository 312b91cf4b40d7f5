// A clean stop loses nothing the broker already sent. A message on its way to an instance that is stopping must
// not be dropped by the client: the broker would count it as delivered and hold up its partition
// (max_ack_pending 1) for the whole ack wait before any instance could have it again.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { eventSubject, partitionOf } from "../src/messaging/channels.js";
import { type ConsumersOptions, startConsumers } from "../src/messaging/consumer.js";
import { encodeBody, envelopeHeaders, toNatsHeaders } from "../src/messaging/envelope.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { on } from "../src/messaging/subscriptions.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated } from "./message-fixtures.js";

const STREAM = "FTGO_ORDER_EVENTS";
const ACK_WAIT_MS = 30_000; // a dropped message would hold its partition this long: far beyond the waits below
const log = silentLogger();
let nc: NatsConnection;
let jsm: JetStreamManager;
let dir: string;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  jsm = await jetstreamManager(nc);
  dir = mkdtempSync(join(tmpdir(), "ftgo-consumer-stop-"));
});
afterAll(async () => {
  await nc.close();
  rmSync(dir, { recursive: true, force: true });
});

it("on stop(), handles a message the broker sent but the instance had not read yet: its partition is not held up", async () => {
  const service = `kitchen-${randomUUID().slice(0, 8)}`;
  const trigger = `order-${randomUUID()}`;
  const behind = orderOnAnotherPartition(trigger);
  const durable = `${service}-p${partitionOf(behind, 4)}`;
  /** Which instance handled which of this test's orders. */
  const handled: [string, string][] = [];
  const stopping: Promise<void>[] = [];
  const publishing: unknown[] = [];
  const own = await connect({ servers: inject("natsUrl") });
  const first = await consume("first", own, {
    onDelivery(ctx) {
      if (ctx.correlationId !== trigger || stopping.length > 0) return;
      // While this instance is busy (this call blocks it), another process publishes the next message and waits
      // until the broker has sent it to this instance's standing pull; then the instance is told to stop.
      try {
        execFileSync(
          join(import.meta.dirname, "../../../node_modules/.bin/tsx"),
          [join(import.meta.dirname, "publish-from-elsewhere.ts"), inject("natsUrl"), behind, STREAM, durable],
          { stdio: "pipe" },
        );
      } catch (err) {
        publishing.push(err); // the test fails on it below, once this instance has stopped
      }
      stopping.push(first.stop());
    },
  });
  try {
    // Caught up with what other tests left in the stream: each partition idle, its pull standing.
    await waitFor(
      async () =>
        (await durables(service)).every(
          (info) => info.num_pending + info.num_ack_pending === 0 && info.num_waiting > 0,
        ),
      { timeoutMs: 15_000, message: "the first instance to catch up" },
    );
    await publish(trigger);
    await waitFor(() => stopping.length > 0, { message: "the stop during the trigger's delivery" });
    await stopping[0];
    expect(publishing).toEqual([]);
  } finally {
    await own.close();
  }

  // Nothing is left awaiting an ack that will never come: what the first instance was sent, it handled.
  expect((await jsm.consumers.info(STREAM, durable)).num_ack_pending).toBe(0);
  expect(handled.filter(([orderId]) => orderId === behind)).toEqual([[behind, "first"]]);

  const second = await consume("second", nc, {});
  try {
    const next = orderOnPartitionOf(behind);
    await publish(next);
    await waitFor(() => handled.some(([orderId]) => orderId === next), {
      timeoutMs: 10_000,
      message: "the next instance to take the partition's next message",
    });
    expect(handled.filter(([orderId]) => orderId === behind)).toHaveLength(1); // and not handled twice
  } finally {
    await second.stop();
  }

  async function consume(instance: string, conn: NatsConnection, options: Pick<ConsumersOptions, "onDelivery">) {
    const db = openDatabase(join(dir, `${service}-${instance}.db`), []);
    const consumers = await startConsumers({
      nc: conn,
      db,
      outbox: createOutbox(db),
      log,
      service,
      ackWaitMs: ACK_WAIT_MS,
      subscriptions: [on(OrderCreatedSchema, (event) => void handled.push([event.orderId, instance]))],
      ...options,
    });
    return {
      async stop() {
        await consumers.stop();
        db.close();
      },
    };
  }
});

async function publish(orderId: string): Promise<void> {
  const messageId = randomUUID();
  await jetstream(nc).publish(
    eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
    encodeBody(OrderCreatedSchema, anOrderCreated(orderId)),
    {
      headers: toNatsHeaders(envelopeHeaders({ messageId, type: OrderCreatedSchema.typeName, correlationId: orderId })),
      msgID: messageId,
    },
  );
}

function durables(service: string) {
  return Promise.all([0, 1, 2, 3].map((k) => jsm.consumers.info(STREAM, `${service}-p${k}`)));
}

/** An order id whose events go to another partition than `orderId`'s. */
function orderOnAnotherPartition(orderId: string): string {
  for (;;) {
    const other = `order-${randomUUID()}`;
    if (partitionOf(other, 4) !== partitionOf(orderId, 4)) return other;
  }
}

/** An order id whose events go to the same partition as `orderId`'s. */
function orderOnPartitionOf(orderId: string): string {
  for (;;) {
    const other = `order-${randomUUID()}`;
    if (partitionOf(other, 4) === partitionOf(orderId, 4)) return other;
  }
}
