import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { ensureEventStream } from "../src/messaging/channels.js";
import { type OutboxRelay, startOutboxRelay } from "../src/messaging/relay.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/index.js";
import { waitFor } from "../src/testing/wait.js";
import { openOutboxStore } from "./message-fixtures.js";

// This file changes the order stream's settings to make the broker refuse one message, so it runs its own broker.
const STREAM = "FTGO_ORDER_EVENTS";
const log = silentLogger();
/** The poll never comes within a test: whatever is published was published because of a commit or a kick. */
const NEVER = 60 * 60_000;

describe("startOutboxRelay, a batch in flight", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;
  const open: { close(): unknown }[] = [];
  const running: OutboxRelay[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    await ensureEventStream(nc, "order");
    dir = mkdtempSync(join(tmpdir(), "ftgo-relay-batch-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((relay) => relay.stop()));
    for (const db of open.splice(0)) db.close();
    await setMaxMessageSize(nc, -1);
  });
  afterAll(async () => {
    await nc.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A connection to the service database in file `name`, with an outbox. */
  const openStore = (name: string) => {
    const store = openOutboxStore(join(dir, `${name}.db`));
    open.push(store.db);
    return store;
  };
  const startRelay = (db: Database, pollIntervalMs?: number) => {
    const relay = startOutboxRelay({ db, nc, log, ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) });
    running.push(relay);
    return relay;
  };
  /** The outbox rows in seq order: which are published, and in which transaction (rows of one batch share a time). */
  const rows = (db: Database) =>
    db.prepare("SELECT message_id AS messageId, published_at AS publishedAt FROM outbox ORDER BY seq").all() as {
      messageId: string;
      publishedAt: number | null;
    }[];

  it("publishes rows of distinct orders together, in commit order, and marks them in one transaction", async () => {
    const { db, approve } = openStore(randomUUID());
    const orders = Array.from({ length: 30 }, (_, i) => `order-${randomUUID()}-${i}`);
    // 30 orders, then a second row for ten of them: those wait for a batch of their own.
    const sent = [...orders, ...orders.slice(0, 10)].map(approve);
    const from = await lastSeq(nc);

    const relay = startRelay(db);

    await waitFor(() => relay.stats().pending === 0, { message: "outbox drained" });
    expect((await storedSince(nc, from)).map((m) => m.messageId)).toEqual(sent);
    const marked = rows(db);
    expect(new Set(marked.slice(0, 30).map((row) => row.publishedAt)).size).toBe(1);
    expect(new Set(marked.slice(30).map((row) => row.publishedAt)).size).toBe(1);
    expect(marked[30]?.publishedAt).toBeGreaterThanOrEqual(marked[0]?.publishedAt as number);
    expect(relay.stats()).toMatchObject({ published: 40, lastError: undefined });
  });

  it("leaves the rows from a refused one on pending, and publishes them next pass, each order in commit order", async () => {
    const { db, approve } = openStore(randomUUID());
    const [a, b, c, d] = ["a", "b", "c", "d"].map((x) => `order-${randomUUID()}-${x}`) as [
      string,
      string,
      string,
      string,
    ];
    const sent = [a, b, c, d, a, b].map(approve);
    // The stream refuses b's first row (bigger than the stream allows, well under the broker's max_payload)
    // until the test lifts the limit: a failure in the middle of a batch whose neighbours are stored.
    db.prepare("UPDATE outbox SET payload = ? WHERE message_id = ?").run(Buffer.alloc(4_000, 7), sent[1]);
    await setMaxMessageSize(nc, 1_500);
    const from = await lastSeq(nc);

    const relay = startRelay(db);

    await waitFor(() => relay.stats().lastError, { message: "the refusal reported" });
    // Only a's first row, before the refused one, is marked; c, d and a's second row may be in the stream
    // already, but stay pending: the next pass publishes them again, and JetStream drops the copies.
    expect(rows(db).map((row) => row.publishedAt !== null)).toEqual([true, false, false, false, false, false]);
    const during = (await storedSince(nc, from)).map((m) => m.messageId);
    expect(during).not.toContain(sent[1]);
    expect(during).not.toContain(sent[5]); // b's second row is never in flight with its first

    await setMaxMessageSize(nc, -1);

    await waitFor(() => relay.stats().pending === 0, { timeoutMs: 15_000, message: "outbox drained after the fix" });
    const stored = await storedSince(nc, from);
    expect(new Set(stored.map((m) => m.messageId)).size).toBe(stored.length); // each once
    expect([...stored.map((m) => m.messageId)].sort()).toEqual([...sent].sort());
    for (const order of [a, b, c, d]) {
      const inCommitOrder = sent.filter((_, i) => [a, b, c, d, a, b][i] === order);
      expect(stored.filter((m) => m.orderId === order).map((m) => m.messageId)).toEqual(inCommitOrder);
    }
    expect(relay.stats()).toMatchObject({ lastError: undefined, published: 6 });
  });

  it("publishes a row committed through the outbox at once, with no kick and no poll", async () => {
    const { db, approve } = openStore(randomUUID());
    const relay = startRelay(db, NEVER);
    await waitFor(() => relay.stats().leader, { message: "relay leading" });

    approve(`order-${randomUUID()}`);

    await waitFor(() => relay.stats().published === 1, { message: "published after the commit" });
  });

  it("does not lose a commit or a kick that comes while a pass is publishing", async () => {
    const name = randomUUID();
    const service = openStore(name);
    const other = openStore(name); // another connection to the file: its commits reach the relay only by kick()
    const relay = startRelay(service.db, NEVER);
    await waitFor(() => relay.stats().leader, { message: "relay leading" });
    const [first, second, third] = ["1", "2", "3"].map((x) => `order-${randomUUID()}-${x}`) as [string, string, string];
    // The broker hands the first row to this subscriber before it acknowledges it to the relay (one
    // connection, in order): the relay's pass is still awaiting that ack when these two commits land.
    const sub = nc.subscribe("ftgo.order.event.order_approved.>", {
      callback: (_err, msg) => {
        if (msg.headers?.get("Ftgo-Correlation-Id") !== first) return;
        service.approve(second);
        other.approve(third);
        relay.kick();
      },
    });
    await nc.flush();
    const from = await lastSeq(nc);

    service.approve(first);

    await waitFor(() => relay.stats().published === 3, { message: "the rows committed during the pass published" });
    sub.unsubscribe();
    const stored = (await storedSince(nc, from)).map((m) => m.orderId);
    expect(stored).toEqual([first, second, third]);
  });
});

/** Sets the order stream's largest message (-1: no limit beyond the broker's). */
async function setMaxMessageSize(nc: NatsConnection, bytes: number): Promise<void> {
  await (await jetstreamManager(nc)).streams.update(STREAM, { max_msg_size: bytes });
}

async function lastSeq(nc: NatsConnection): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(STREAM)).state.last_seq;
}

/** The messages stored in the order stream after sequence `from`, in stream order. */
async function storedSince(nc: NatsConnection, from: number) {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAM)).state.last_seq;
  const stored = [];
  for (let seq = from + 1; seq <= last; seq++) {
    const message = await jsm.streams.getMessage(STREAM, { seq });
    if (!message) continue;
    stored.push({
      messageId: message.header.get("Ftgo-Message-Id"),
      orderId: message.header.get("Ftgo-Correlation-Id"),
    });
  }
  return stored;
}
