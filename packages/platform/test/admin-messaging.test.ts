// AdminService on a running saga participant (startSagaService, a real nats-server, a real SQLite file):
// what its outbox sent for an order and why, what its consumers have done, and its dead letters, which it
// lists and replays — its own only. The stats come from the live relay and consumers, not from a log.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { TicketCreatedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport } from "../src/grpc/index.js";
import { silentLogger } from "../src/log.js";
import { eventSubject, partitionOf } from "../src/messaging/channels.js";
import { DeadLetterHeader } from "../src/messaging/dead-letters.js";
import { encodeBody, envelopeHeaders, toNatsHeaders } from "../src/messaging/envelope.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { on } from "../src/messaging/subscriptions.js";
import { type RunningService, startSagaService } from "../src/saga-service.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated } from "./message-fixtures.js";

// Its own broker: the service reads FTGO_ORDER_EVENTS from the start, and dead letters are per broker.
describe("AdminService on a saga participant", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;
  let kitchen: RunningService;
  let transport: GrpcTransport;
  let admin: Client<typeof AdminService>;
  /** Orders whose OrderCreated the kitchen refuses, as a bug would, until the test "fixes" it. */
  const refusing = new Set<string>();

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    dir = mkdtempSync(join(tmpdir(), "ftgo-admin-"));
    const config = loadConfig({ PORT: "0", NATS_URL: nats.url, DATA_DIR: dir }, { service: "kitchen", port: 0 });
    const db = openDatabase(join(dir, "kitchen.db"), []);
    kitchen = await startSagaService({
      config,
      log: silentLogger(),
      store: { db, outbox: createOutbox(db), close: () => db.close() },
      // A ticket for every new order: the event it sends is caused by the one it handled.
      subscriptions: [
        on(OrderCreatedSchema, (order, ctx) => {
          if (refusing.has(order.orderId)) throw new Error(`restaurant ${order.restaurantId} is closed`);
          ctx.publish(TicketCreatedSchema, { orderId: order.orderId, restaurantId: order.restaurantId });
        }),
      ],
      services: () => [],
    });
    transport = createGrpcTransport({ address: kitchen.address });
    admin = createGrpcClient(AdminService, transport);
  });
  afterAll(async () => {
    transport?.close();
    await kitchen?.stop();
    await nc?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes an OrderCreated the way Order's relay would; returns its message id. */
  async function publishOrderCreated(orderId: string): Promise<string> {
    const messageId = randomUUID();
    const envelope = { messageId, type: OrderCreatedSchema.typeName, correlationId: orderId };
    await jetstream(nc).publish(
      eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
      encodeBody(OrderCreatedSchema, anOrderCreated(orderId)),
      { headers: toNatsHeaders(envelopeHeaders(envelope)), msgID: messageId },
    );
    return messageId;
  }

  /** The kitchen's consumer of Order's events, as GetServerStats reports it. */
  async function orderEventsConsumer() {
    const { consumers } = await admin.getServerStats({});
    return consumers.find((consumer) => consumer.channel === "ftgo.order.event");
  }

  /** A dead letter in FTGO_DEAD_LETTERS as `service` would have sent it, going back to `originalSubject`; its seq. */
  async function deadLetterOf(service: string, originalSubject: string): Promise<bigint> {
    const headers = { [DeadLetterHeader.Service]: service, [DeadLetterHeader.OriginalSubject]: originalSubject };
    const ack = await jetstream(nc).publish(`ftgo.deadletter.${service}`, new Uint8Array([1]), {
      headers: toNatsHeaders(headers),
    });
    return BigInt(ack.seq);
  }

  it("lists the message the service sent for an order, with the message that caused it", async () => {
    const orderId = `order-${randomUUID()}`;
    const cause = await publishOrderCreated(orderId);

    const { service, messages, sagaMoves } = await waitFor(
      () => admin.listSentMessages({ correlationId: orderId }).then((sent) => sent.messages[0]?.published && sent),
      { message: "the TicketCreated sent and published" },
    );

    expect(service).toBe("kitchen");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      causationId: cause,
      type: TicketCreatedSchema.typeName,
      subject: eventSubject(TicketCreatedSchema, partitionOf(orderId, 4)),
      replyTo: "",
      published: true,
    });
    expect(messages[0]?.createTime && timestampMs(messages[0].createTime)).toBeGreaterThan(Date.now() - 60_000);
    expect(sagaMoves).toEqual([]); // it orchestrates nothing
    expect(await admin.listSentMessages({ correlationId: `order-${randomUUID()}` })).toMatchObject({ messages: [] });
  });

  it("reports its consumers' counts and its outbox, moving as messages are consumed and published", async () => {
    const before = (await orderEventsConsumer())?.consumed ?? 0n;

    await publishOrderCreated(`order-${randomUUID()}`);

    const consumer = await waitFor(async () => {
      const now = await orderEventsConsumer();
      return now && now.consumed > before && now;
    });
    expect(consumer).toMatchObject({ channel: "ftgo.order.event", deadLettered: 0n });
    const stats = await waitFor(() => admin.getServerStats({}).then((s) => s.outbox?.pendingRows === 0n && s));
    expect(stats).toMatchObject({ service: "kitchen", targets: [] });
    expect(stats.instanceId).not.toBe("");
    expect(stats.outbox).toMatchObject({ pendingRows: 0n, oldestPendingMs: 0n });
    expect(stats.outbox?.published).toBeGreaterThanOrEqual(1n);
  });

  it("lists a message it gave up on, and replays it once the cause is fixed", async () => {
    const orderId = `order-${randomUUID()}`;
    refusing.add(orderId);
    const poisoned = await publishOrderCreated(orderId);

    const [letter] = await waitFor(
      () => admin.listDeadLetters({}).then(({ deadLetters }) => deadLetters.length > 0 && deadLetters),
      { timeoutMs: 15_000, message: "the OrderCreated dead-lettered after its attempts" },
    );
    expect(letter).toMatchObject({
      originalSubject: eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
      type: OrderCreatedSchema.typeName,
      correlationId: orderId,
      reason: "handler failed 5 times: restaurant r-1 is closed",
      deliveries: 5,
    });
    expect((await orderEventsConsumer())?.deadLettered).toBe(1n);
    expect((await orderEventsConsumer())?.redelivered).toBeGreaterThanOrEqual(4n);

    refusing.delete(orderId);
    const replayed = await admin.replayDeadLetter({ seq: letter?.seq ?? 0n });

    expect(replayed.originalSubject).toBe(letter?.originalSubject);
    const sent = await waitFor(() =>
      admin.listSentMessages({ correlationId: orderId }).then(({ messages }) => messages.length > 0 && messages),
    );
    expect(sent[0]).toMatchObject({ causationId: poisoned, type: TicketCreatedSchema.typeName });
    expect((await admin.listDeadLetters({})).deadLetters).toEqual([]);
  });

  it("does not find another service's dead letter, and refuses to replay one that would leave its channels", async () => {
    const ofAccounting = await deadLetterOf("accounting", eventSubject(OrderCreatedSchema, 0));
    const stray = await deadLetterOf("kitchen", "$JS.API.STREAM.PURGE.FTGO_ORDER_EVENTS");

    expect(await admin.replayDeadLetter({ seq: ofAccounting }).catch((err: unknown) => err)).toMatchObject({
      code: Code.NotFound,
      rawMessage: `no dead letter of kitchen with sequence ${ofAccounting}`,
    });
    expect((await admin.listDeadLetters({})).deadLetters.map(({ seq }) => seq)).toEqual([stray]);
    expect(await admin.replayDeadLetter({ seq: stray }).catch((err: unknown) => err)).toMatchObject({
      code: Code.FailedPrecondition,
    });
  });
});
