import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { MessageTooLargeError } from "../src/messaging/broker-limit.js";
import { eventSubject, partitionOf } from "../src/messaging/channels.js";
import { startConsumers } from "../src/messaging/consumer.js";
import {
  DeadLetterNotFoundError,
  listDeadLetters,
  ReplayRefusedError,
  replayDeadLetter,
} from "../src/messaging/dead-letters.js";
import { encodeBody, envelopeHeaders, toNatsHeaders } from "../src/messaging/envelope.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { type MessageHandler, on } from "../src/messaging/subscriptions.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/index.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated } from "./message-fixtures.js";

const SCHEMA = ["CREATE TABLE handled (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT, message_id TEXT)"];
const log = silentLogger();

// Poison messages would reach every consumer of the shared server's streams, and dead letters are
// listed server-wide: this file runs its own broker.
describe("dead letters", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    dir = mkdtempSync(join(tmpdir(), "ftgo-dead-letters-"));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    // A consumer reads its stream from the start: give every test empty streams (this broker is ours).
    const jsm = await jetstreamManager(nc);
    for (const stream of ["FTGO_ORDER_EVENTS", "FTGO_DEAD_LETTERS"]) await jsm.streams.delete(stream);
  });
  afterAll(async () => {
    await nc.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A service consuming OrderCreated with `handler` (by default: record it), and what it handled. */
  async function startService(
    service: string,
    options: { maxDeliver?: number; handler?: MessageHandler<typeof OrderCreatedSchema> } = {},
  ) {
    const db = openDatabase(join(dir, `${randomUUID()}.db`), SCHEMA);
    const record = db.prepare("INSERT INTO handled (order_id, message_id) VALUES (?, ?)");
    const deliveries = new Map<string, number>();
    const consumers = await startConsumers({
      nc,
      db,
      outbox: createOutbox(db),
      log,
      service,
      maxDeliver: options.maxDeliver,
      onDelivery: (ctx) => deliveries.set(ctx.messageId, (deliveries.get(ctx.messageId) ?? 0) + 1),
      subscriptions: [
        on(OrderCreatedSchema, (event, ctx) => {
          options.handler?.(event, ctx);
          record.run(event.orderId, ctx.messageId);
        }),
      ],
    });
    cleanups.push(
      () => db.close(),
      () => consumers.stop(),
    );
    const handled = () => (db.prepare("SELECT message_id FROM handled").pluck().all() as string[]).sort();
    return { handled, deliveries };
  }

  /** Publishes an OrderCreated the way a relay would; `body` replaces the encoded event. */
  async function publishOrderCreated(orderId: string, options: { messageId?: string; body?: Uint8Array } = {}) {
    const { messageId = randomUUID(), body } = options;
    const envelope = { messageId, type: OrderCreatedSchema.typeName, correlationId: orderId };
    await jetstream(nc).publish(
      eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
      body ?? encodeBody(OrderCreatedSchema, anOrderCreated(orderId)),
      { headers: toNatsHeaders(envelopeHeaders(envelope)), msgID: messageId },
    );
    return messageId;
  }

  it("sends a malformed message to the dead letters at once, with the reason, and goes on with the next", async () => {
    const kitchen = await startService("kitchen-poison");
    const orderId = `order-${randomUUID()}`;
    const garbled = await publishOrderCreated(orderId, { body: new TextEncoder().encode("not protobuf") });
    const bare = headers(); // no Ftgo-* headers at all
    await jetstream(nc).publish(eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)), new Uint8Array([1]), {
      headers: bare,
    });
    const good = await publishOrderCreated(orderId);

    await waitFor(() => kitchen.handled().includes(good), { message: "the message behind them handled" });
    const letters = await listDeadLetters(nc, { service: "kitchen-poison" });
    expect(letters).toMatchObject([
      {
        service: "kitchen-poison",
        originalSubject: eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
        type: "ftgo.order.v1.OrderCreated",
        messageId: garbled,
        correlationId: orderId,
        reason: "malformed message: body is not a valid ftgo.order.v1.OrderCreated",
        deliveries: 1,
      },
      { messageId: undefined, reason: "malformed message: missing header Content-Type", deliveries: 1 },
    ]);
    expect(kitchen.deliveries.get(garbled)).toBeUndefined(); // never reached a handler
  });

  it("dead-letters a message whose handler keeps failing after maxDeliver attempts, with the error", async () => {
    const orderId = `order-${randomUUID()}`;
    const failing = randomUUID();
    const kitchen = await startService("kitchen-failing", {
      maxDeliver: 3,
      handler: (_, ctx) => {
        if (ctx.messageId === failing) throw new Error("restaurant r-9 is closed");
      },
    });
    await publishOrderCreated(orderId, { messageId: failing });
    const next = await publishOrderCreated(orderId);

    await waitFor(() => kitchen.handled().includes(next), { message: "the message behind it handled" });
    expect(kitchen.deliveries.get(failing)).toBe(3);
    expect(kitchen.handled()).not.toContain(failing);
    expect(await listDeadLetters(nc, { service: "kitchen-failing" })).toMatchObject([
      { messageId: failing, reason: "handler failed 3 times: restaurant r-9 is closed", deliveries: 3 },
    ]);
  });

  it("dead-letters an undecodable message of nearly max_payload, cut to fit, and the partition moves on", async () => {
    const kitchen = await startService("kitchen-huge");
    const orderId = `order-${randomUUID()}`;
    const maxPayload = nc.info?.max_payload as number;
    // Fits the broker with its own header, but not with the dead letter's headers added.
    const huge = await publishOrderCreated(orderId, { body: new Uint8Array(maxPayload - 400).fill(0xff) });
    const next = await publishOrderCreated(orderId);

    await waitFor(() => kitchen.handled().includes(next), { message: "the message behind it handled" });
    const [letter, ...others] = await listDeadLetters(nc, { service: "kitchen-huge" });
    expect(others).toEqual([]);
    expect(letter).toMatchObject({
      messageId: huge,
      correlationId: orderId,
      reason: "malformed message: body is not a valid ftgo.order.v1.OrderCreated",
      originalStream: "FTGO_ORDER_EVENTS",
      originalSequence: expect.any(Number),
      truncatedFrom: maxPayload - 400,
    });
    const stored = await (await jetstreamManager(nc)).streams.getMessage("FTGO_DEAD_LETTERS", { seq: letter?.seq });
    expect(stored?.data.length).toBeLessThan(maxPayload - 400);
    // Replaying a part would hand the service a different message: the letter says where the whole one is.
    await expect(replayDeadLetter(nc, letter?.seq as number)).rejects.toThrow(
      `it keeps only part of a ${maxPayload - 400}-byte body; the whole message is FTGO_ORDER_EVENTS sequence ${letter?.originalSequence}`,
    );
  });

  it("dead-letters at once a message whose handler would send one over max_payload: retrying cannot help", async () => {
    const orderId = `order-${randomUUID()}`;
    const tooBig = randomUUID();
    const kitchen = await startService("kitchen-too-big", {
      maxDeliver: 5,
      handler: (_, ctx) => {
        if (ctx.messageId === tooBig) {
          throw new MessageTooLargeError(
            "ftgo.kitchen.v1.TicketCreated is 2000000 bytes, over the broker's max_payload 1048576",
          );
        }
      },
    });
    await publishOrderCreated(orderId, { messageId: tooBig });
    const next = await publishOrderCreated(orderId);

    await waitFor(() => kitchen.handled().includes(next), { message: "the message behind it handled" });
    expect(kitchen.deliveries.get(tooBig)).toBe(1);
    expect(await listDeadLetters(nc, { service: "kitchen-too-big" })).toMatchObject([
      {
        messageId: tooBig,
        reason: "handler failed: ftgo.kitchen.v1.TicketCreated is 2000000 bytes, over the broker's max_payload 1048576",
        deliveries: 1,
      },
    ]);
  });

  it("bounds the durables' max_deliver, so no message is redelivered for ever", async () => {
    await startService("kitchen-bounded", { maxDeliver: 3 });

    const info = await (await jetstreamManager(nc)).consumers.info("FTGO_ORDER_EVENTS", "kitchen-bounded-p0");
    expect(info.config.max_deliver).toBe(8);
  });

  it("refuses to replay a dead letter whose original subject is not a channel subject", async () => {
    await startService("kitchen-forged", { maxDeliver: 1, handler: () => Promise.reject(new Error("x")) });
    const real = await publishOrderCreated(`order-${randomUUID()}`, { body: new TextEncoder().encode("garbled") });
    await waitFor(() => listDeadLetters(nc).then((l) => l.some((letter) => letter.messageId === real)));
    const forged = headers();
    forged.set("Ftgo-Original-Subject", "$JS.API.STREAM.PURGE.FTGO_DEAD_LETTERS");
    forged.set("Ftgo-Dead-Letter-Reason", "please replay me");
    const { seq } = await jetstream(nc).publish("ftgo.deadletter.mallory", new Uint8Array(), { headers: forged });

    await expect(replayDeadLetter(nc, seq)).rejects.toThrow(ReplayRefusedError);
    await expect(replayDeadLetter(nc, seq)).rejects.toThrow(
      `dead letter ${seq} is not replayed: "$JS.API.STREAM.PURGE.FTGO_DEAD_LETTERS" is not an ftgo channel subject`,
    );
    const cli = await run(process.execPath, ["--import", "tsx", "scripts/dead-letters.ts", "replay", String(seq)], {
      cwd: ROOT,
      env: { ...process.env, NATS_URL: nats.url },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(cli).toMatchObject({ code: 1, stderr: expect.stringContaining("is not an ftgo channel subject") });
    const letters = await listDeadLetters(nc);
    expect(letters.map((letter) => letter.messageId)).toContain(real); // nothing was purged
    expect(letters.map((letter) => letter.seq)).toContain(seq);
  });

  it("replays a dead letter: the service that failed handles it, the ones that handled it ignore it", async () => {
    const orderId = `order-${randomUUID()}`;
    let broken = true;
    const kitchen = await startService("kitchen-replay", {
      maxDeliver: 2,
      handler: () => {
        if (broken) throw new Error("bug in the ticket rules");
      },
    });
    const accounting = await startService("accounting-replay");
    const messageId = await publishOrderCreated(orderId);
    const [letter] = await waitFor(() => listDeadLetters(nc, { service: "kitchen-replay" }).then((l) => l.length && l));
    await waitFor(() => accounting.handled().includes(messageId));

    broken = false; // the bug is fixed and deployed
    await replayDeadLetter(nc, letter?.seq as number);

    await waitFor(() => kitchen.handled().includes(messageId), { message: "replayed message handled" });
    expect(await listDeadLetters(nc, { service: "kitchen-replay" })).toEqual([]);
    await expect(replayDeadLetter(nc, letter?.seq as number)).rejects.toThrow(DeadLetterNotFoundError);
    const { state } = await (await jetstreamManager(nc)).streams.info("FTGO_ORDER_EVENTS");
    const replayed = await (await jetstreamManager(nc)).streams.getMessage("FTGO_ORDER_EVENTS", {
      seq: state.last_seq,
    });
    expect(replayed?.header.get("Nats-Msg-Id")).toBe(`${messageId}.replay.${letter?.seq}`);
    expect(replayed?.header.get("Ftgo-Message-Id")).toBe(messageId);
    await waitFor(() => accounting.deliveries.get(messageId) === 2, { message: "replay delivered to accounting" });
    expect(accounting.handled().filter((id) => id === messageId)).toHaveLength(1);
  });

  it("lists and replays from the command line: npm run dead-letters", async () => {
    const orderId = `order-${randomUUID()}`;
    const cookIsOut = () => {
      throw new Error("the cook is out");
    };
    await startService("kitchen-cli", { maxDeliver: 1, handler: cookIsOut });
    const messageId = await publishOrderCreated(orderId);
    const [letter] = await waitFor(() => listDeadLetters(nc, { service: "kitchen-cli" }).then((l) => l.length && l));
    expect(letter?.messageId).toBe(messageId);
    const cli = (...args: string[]) =>
      run(process.execPath, ["--import", "tsx", "scripts/dead-letters.ts", ...args], {
        cwd: ROOT,
        env: { ...process.env, NATS_URL: nats.url },
      });

    const listed = await cli("list", "--service", "kitchen-cli");
    expect(listed.stdout).toMatch(/^SEQ\s+TIME\s+SERVICE\s+TYPE\s+ORDER\s+TRIES\s+REASON\n/);
    expect(listed.stdout).toContain(`${letter?.seq} `);
    expect(listed.stdout).toContain(orderId);
    expect(listed.stdout).toContain("handler failed 1 times: the cook is out");

    await expect(cli("replay", "999999")).rejects.toMatchObject({
      code: 1,
      stderr: "no dead letter with sequence 999999\n",
    });
    expect((await cli("replay", String(letter?.seq))).stdout).toBe(`replayed dead letter ${letter?.seq}\n`);
  });
});

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const run = promisify(execFile);
