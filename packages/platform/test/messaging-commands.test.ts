// Commands and replies: asynchronous request/response over JetStream. A requester sends a command to
// the receiver's point-to-point command channel through its outbox, naming its own reply channel; the
// receiver handles it once and replies through its outbox; the requester matches the reply to its
// request by correlation id and causation id. A command without a reply channel is a one-way
// notification.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTicketSchema } from "@ftgo/gen/ftgo/kitchen/v1/commands_pb.js";
import { TicketCreatedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { channelOf, commandSubject, partitionOf, replyChannel, replySubject } from "../src/messaging/channels.js";
import { startConsumers } from "../src/messaging/consumer.js";
import { DeadLetterHeader } from "../src/messaging/dead-letters.js";
import { encodeBody, envelopeHeaders, MessageHeader, toNatsHeaders } from "../src/messaging/envelope.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { startOutboxRelay } from "../src/messaging/relay.js";
import {
  createMessageContext,
  type MessageContext,
  NoReplyChannelError,
  onCommand,
  onReply,
} from "../src/messaging/subscriptions.js";
import { waitFor } from "../src/testing/wait.js";

const log = silentLogger();

describe("channels of commands and replies", () => {
  it("names a command by its receiver's domain and a reply by the requester's channel", () => {
    expect(commandSubject(CreateTicketSchema, 3)).toBe("ftgo.kitchen.command.create_ticket.3");
    expect(replySubject(replyChannel("order"), TicketCreatedSchema, 1)).toBe("ftgo.order.reply.ticket_created.1");
    expect(channelOf("ftgo.kitchen.command.create_ticket.3")).toEqual({ domain: "kitchen", kind: "command" });
    expect(() => replySubject("ftgo.order.event", TicketCreatedSchema, 1)).toThrow("is not a reply channel");
    expect(() => replyChannel("Order")).toThrow("is not a domain name");
  });
});

describe("asynchronous request/response", () => {
  let nc: NatsConnection;
  let dir: string;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    dir = mkdtempSync(join(tmpdir(), "ftgo-commands-"));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One service: its database with outbox and relay. `name` must be a domain name to own a reply channel. */
  function openService(name: string) {
    const db = openDatabase(join(dir, `${name}-${randomUUID()}.db`), []);
    const outbox = createOutbox(db);
    const relay = startOutboxRelay({ db, nc, log });
    cleanups.push(
      () => db.close(),
      () => relay.stop(),
    );
    return { db, outbox, relay };
  }

  /** A requester domain of its own, so that this file's durables never meet another test's. */
  const uniqueDomain = () => `req${randomUUID().replaceAll("-", "")}`;

  it("delivers a command to its receiver once and the reply to the requester's reply channel", async () => {
    const requesterName = uniqueDomain();
    const requester = openService(requesterName);
    const kitchen = openService("kitchen");
    const orderId = `order-${randomUUID()}`;
    const handled: MessageContext[] = [];
    const replies: { orderId: string; ctx: MessageContext }[] = [];
    const kitchenConsumers = await startConsumers({
      nc,
      log,
      db: kitchen.db,
      outbox: kitchen.outbox,
      relay: kitchen.relay,
      service: `kitchen${requesterName}`,
      subscriptions: [
        onCommand(CreateTicketSchema, (command, ctx) => {
          if (command.orderId !== orderId) return; // another test's command
          handled.push(ctx);
          ctx.reply(TicketCreatedSchema, { orderId, restaurantId: command.restaurantId });
        }),
      ],
    });
    cleanups.push(() => kitchenConsumers.stop());
    const requesterConsumers = await startConsumers({
      nc,
      log,
      db: requester.db,
      outbox: requester.outbox,
      service: requesterName,
      subscriptions: [onReply(TicketCreatedSchema, (reply, ctx) => replies.push({ orderId: reply.orderId, ctx }))],
    });
    cleanups.push(() => requesterConsumers.stop());

    const commandId = requester.db.transaction(() =>
      requester.outbox.send(
        CreateTicketSchema,
        { orderId, restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", name: "Dal", quantity: 1 }] },
        { correlationId: orderId, replyTo: replyChannel(requesterName) },
      ),
    )();
    requester.relay.kick();

    await waitFor(() => replies.length === 1, { message: "the reply" });
    expect(handled.map((ctx) => [ctx.messageId, ctx.replyTo, ctx.subject])).toEqual([
      [commandId, replyChannel(requesterName), commandSubject(CreateTicketSchema, partitionOf(orderId, 4))],
    ]);
    const [reply] = replies;
    expect(reply?.orderId).toBe(orderId);
    expect(reply?.ctx.correlationId).toBe(orderId);
    expect(reply?.ctx.causationId).toBe(commandId); // which request it answers
    expect(reply?.ctx.subject).toBe(
      replySubject(replyChannel(requesterName), TicketCreatedSchema, partitionOf(orderId, 4)),
    );
  });

  it("refuses to reply to a one-way command: there is nobody to answer", () => {
    const kitchen = openService("kitchen");
    const orderId = `order-${randomUUID()}`;
    const envelope = { messageId: randomUUID(), type: CreateTicketSchema.typeName, correlationId: orderId };
    const delivery = { subject: commandSubject(CreateTicketSchema, 0), deliveryCount: 1 };
    const oneWay = createMessageContext(envelope, delivery, kitchen.outbox);
    const asked = createMessageContext({ ...envelope, replyTo: replyChannel("order") }, delivery, kitchen.outbox);

    const replyTo = (ctx: MessageContext) =>
      kitchen.db.transaction(() => ctx.reply(TicketCreatedSchema, { orderId, restaurantId: "r-1" }))();

    expect(() => replyTo(oneWay)).toThrow(NoReplyChannelError);
    expect(kitchen.db.prepare("SELECT count(*) AS n FROM outbox").get()).toEqual({ n: 0 });
    replyTo(asked);
    expect(kitchen.db.prepare("SELECT subject, causation_id FROM outbox").all()).toEqual([
      {
        subject: replySubject(replyChannel("order"), TicketCreatedSchema, partitionOf(orderId, 4)),
        causation_id: envelope.messageId,
      },
    ]);
  });

  it("dead-letters a command whose Reply-To is not a reply channel, instead of retrying it", async () => {
    const kitchen = openService("kitchen");
    const service = `kitchen${uniqueDomain()}`;
    const orderId = `order-${randomUUID()}`;
    let called = false;
    const consumers = await startConsumers({
      nc,
      log,
      db: kitchen.db,
      outbox: kitchen.outbox,
      service,
      subscriptions: [
        onCommand(CreateTicketSchema, (command) => {
          if (command.orderId === orderId) called = true;
        }),
      ],
    });
    cleanups.push(() => consumers.stop());

    const headers = envelopeHeaders({
      messageId: randomUUID(),
      type: CreateTicketSchema.typeName,
      correlationId: orderId,
      replyTo: "ftgo.order.event",
    });
    const js = jetstream(nc);
    await js.publish(
      commandSubject(CreateTicketSchema, partitionOf(orderId, 4)),
      encodeBody(CreateTicketSchema, { orderId }),
      { headers: toNatsHeaders(headers) },
    );

    const jsm = await jetstreamManager(nc);
    const deadLetter = await waitFor(async () => {
      const msg = await jsm.streams.getMessage("FTGO_DEAD_LETTERS", { last_by_subj: `ftgo.deadletter.${service}` });
      return msg?.header.get(MessageHeader.CorrelationId) === orderId ? msg : undefined;
    });
    expect(deadLetter.header.get(DeadLetterHeader.Reason)).toContain("ftgo.order.event is not a reply channel");
    expect(called).toBe(false);
  });
});
