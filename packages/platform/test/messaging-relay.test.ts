import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { Database } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { ensureEventStream } from "../src/messaging/channels.js";
import { type Consumers, startConsumers } from "../src/messaging/consumer.js";
import { listParkedRows } from "../src/messaging/parked.js";
import { type OutboxRelay, startOutboxRelay } from "../src/messaging/relay.js";
import { on } from "../src/messaging/subscriptions.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated, openOutboxStore } from "./message-fixtures.js";

const STREAM = "FTGO_ORDER_EVENTS";
const log = silentLogger();

describe("startOutboxRelay", () => {
  let nc: NatsConnection;
  let dir: string;
  const open: { close(): unknown }[] = [];
  const running: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    await ensureEventStream(nc, "order");
    dir = mkdtempSync(join(tmpdir(), "ftgo-relay-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((handle) => handle.stop()));
    for (const db of open.splice(0)) db.close();
  });
  afterAll(async () => {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A service database of its own (file `name`), with an outbox. */
  const openStore = (name: string) => {
    const store = openOutboxStore(join(dir, `${name}.db`));
    open.push(store.db);
    return store;
  };
  const startRelay = (db: Database, options: { pollIntervalMs?: number; retentionMs?: number } = {}) => {
    const relay = startOutboxRelay({ db, nc, log, ...options });
    running.push(relay);
    return relay;
  };
  const stopRelay = async (relay: OutboxRelay) => {
    running.splice(running.indexOf(relay), 1);
    await relay.stop();
  };
  const unpublished = (db: Database) =>
    (db.prepare("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL").get() as { n: number }).n;

  it("publishes rows in commit order with Nats-Msg-Id = message id, and marks each published", async () => {
    const { db, approve } = openStore(randomUUID());
    const orders = [1, 2, 3].map((i) => `order-${randomUUID()}-${i}`);
    const sent = Array.from({ length: 12 }, (_, i) => approve(orders[i % 3] as string));
    const from = await lastSeq(nc);

    const relay = startRelay(db);

    await waitFor(() => relay.stats().pending === 0, { message: "outbox drained" });
    const stored = await storedSince(nc, from, orders);
    expect(stored.map((m) => m.messageId)).toEqual(sent);
    expect(stored.every((m) => m.natsMsgId === m.messageId)).toBe(true);
    expect(unpublished(db)).toBe(0);
    expect(relay.stats()).toMatchObject({ pending: 0, oldestPendingAgeMs: 0, published: 12, leader: true });
  });

  it("publishes at once when kicked after a commit, without waiting for its poll", async () => {
    const { db, approve } = openStore(randomUUID());
    const relay = startRelay(db, { pollIntervalMs: 60_000 });
    await waitFor(() => relay.stats().leader);

    approve(`order-${randomUUID()}`);
    relay.kick();

    await waitFor(() => relay.stats().published === 1, { timeoutMs: 2_000, message: "published after kick" });
  });

  it("publishes, once, a row committed before a crash, when the service starts again", async () => {
    const name = randomUUID();
    const before = openStore(name);
    const orderId = `order-${randomUUID()}`;
    const messageId = before.approve(orderId);
    before.db.close(); // the process dies before its relay ran
    const from = await lastSeq(nc);

    const relay = startRelay(openStore(name).db);

    await waitFor(() => relay.stats().published === 1);
    expect((await storedSince(nc, from, [orderId])).map((m) => m.messageId)).toEqual([messageId]);
  });

  it("publishes again after a crash between publish and mark; JetStream keeps one copy, the consumer applies it once", async () => {
    const { db, outbox } = openStore(randomUUID());
    const orderId = `order-${randomUUID()}`;
    db.transaction(() => outbox.append(OrderCreatedSchema, anOrderCreated(orderId), { correlationId: orderId }))();
    const from = await lastSeq(nc);
    const first = startRelay(db);
    await waitFor(() => first.stats().published === 1);
    await stopRelay(first);
    db.exec("UPDATE outbox SET published_at = NULL"); // as if it had died before marking the row

    const second = startRelay(db);

    await waitFor(() => second.stats().published === 1, { message: "published a second time" });
    expect(await storedSince(nc, from, [orderId])).toHaveLength(1);
    let applied = 0;
    const consumers: Consumers = await startConsumers({
      nc,
      db,
      outbox,
      log,
      service: `relay-test-${randomUUID().slice(0, 8)}`,
      subscriptions: [on(OrderCreatedSchema, (event) => void (event.orderId === orderId && applied++))],
    });
    running.push(consumers);
    await waitFor(() => applied === 1, { timeoutMs: 10_000, message: "consumer applied the event" });
  });

  it("lets only one of two relays on one database file publish, and the other take over when it stops", async () => {
    const name = randomUUID();
    const a = openStore(name);
    const b = openStore(name); // a second instance of the same service, same SQLite file
    const relays = [startRelay(a.db), startRelay(b.db)];
    await waitFor(() => relays.some((relay) => relay.stats().leader));
    const orderId = `order-${randomUUID()}`;
    for (let i = 0; i < 20; i++) (i % 2 === 0 ? a : b).approve(orderId);

    await waitFor(() => relays[0]?.stats().pending === 0, { message: "outbox drained" });
    const leader = relays.find((relay) => relay.stats().leader) as OutboxRelay;
    const standby = relays.find((relay) => relay !== leader) as OutboxRelay;
    expect(leader.stats().published).toBe(20);
    expect(standby.stats()).toMatchObject({ published: 0, leader: false });

    await stopRelay(leader);
    a.approve(orderId);

    await waitFor(() => standby.stats().published === 1, { message: "standby took over" });
    expect(standby.stats().leader).toBe(true);
  });

  it("parks a row the broker will never take, and publishes the rows behind it, also after a restart", async () => {
    const name = randomUUID();
    const { db, approve } = openStore(name);
    const [first, stuck, other] = [1, 2, 3].map((i) => `order-${randomUUID()}-${i}`) as [string, string, string];
    const before = approve(first);
    const oversized = approve(stuck);
    // Written behind append's check (an older version, or a broker whose limit shrank): 1.1 MB.
    db.prepare("UPDATE outbox SET payload = ? WHERE message_id = ?").run(Buffer.alloc(1_153_433, 7), oversized);
    const behind = approve(other);
    const from = await lastSeq(nc);

    const relay = startRelay(db);

    await waitFor(() => relay.stats().pending === 0, { message: "the rows behind the oversized one published" });
    expect((await storedSince(nc, from, [first, stuck, other])).map((m) => m.messageId)).toEqual([before, behind]);
    expect(relay.stats()).toMatchObject({ parked: 1, lastError: undefined, published: 2 });
    expect(listParkedRows(db)).toMatchObject([
      {
        messageId: oversized,
        correlationId: stuck,
        type: "ftgo.order.v1.OrderApproved",
        reason: expect.stringMatching(
          /^ftgo\.order\.v1\.OrderApproved is \d+ bytes, over the broker's max_payload \d+$/,
        ),
      },
    ]);

    await stopRelay(relay);
    const after = approve(other);
    const restarted = startRelay(openStore(name).db);

    await waitFor(() => restarted.stats().published === 1, { message: "published after the restart" });
    expect((await storedSince(nc, from, [other])).map((m) => m.messageId)).toEqual([behind, after]);
    expect(restarted.stats().parked).toBe(1);
  });

  it("parks a row whose subject is not a channel, and goes on", async () => {
    const { db, approve } = openStore(randomUUID());
    const [bad, good] = [`order-${randomUUID()}`, `order-${randomUUID()}`];
    const forged = approve(bad);
    db.prepare("UPDATE outbox SET subject = ? WHERE message_id = ?").run(
      "$JS.API.STREAM.PURGE.FTGO_ORDER_EVENTS",
      forged,
    );
    const from = await lastSeq(nc);
    const behind = approve(good);

    const relay = startRelay(db);

    await waitFor(() => relay.stats().pending === 0, { message: "the row behind published" });
    expect((await storedSince(nc, from, [good])).map((m) => m.messageId)).toEqual([behind]);
    expect(listParkedRows(db)).toMatchObject([
      { messageId: forged, reason: "$JS.API.STREAM.PURGE.FTGO_ORDER_EVENTS is not an ftgo channel subject" },
    ]);
  });

  it("deletes published rows once they are older than the retention period", async () => {
    const { db, approve } = openStore(randomUUID());
    approve(`order-${randomUUID()}`);

    startRelay(db, { retentionMs: 0 });

    await waitFor(() => (db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n === 0);
  });
});

async function lastSeq(nc: NatsConnection): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(STREAM)).state.last_seq;
}

/** The messages of `orderIds` stored in the order stream after sequence `from`, in stream order. */
async function storedSince(nc: NatsConnection, from: number, orderIds: readonly string[]) {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAM)).state.last_seq;
  const stored = [];
  for (let seq = from + 1; seq <= last; seq++) {
    const message = await jsm.streams.getMessage(STREAM, { seq });
    if (!message || !orderIds.includes(message.header.get("Ftgo-Correlation-Id"))) continue;
    stored.push({ messageId: message.header.get("Ftgo-Message-Id"), natsMsgId: message.header.get("Nats-Msg-Id") });
  }
  return stored;
}
