import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderApprovedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { connectNats } from "../src/messaging/nats.js";
import { createOutbox, type Outbox } from "../src/messaging/outbox.js";
import { type OutboxRelay, startOutboxRelay } from "../src/messaging/relay.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/index.js";
import { waitFor } from "../src/testing/wait.js";

// This file kills its broker, so it runs its own.
describe("startOutboxRelay while NATS is away", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;
  let db: Database;
  let outbox: Outbox;
  let relay: OutboxRelay;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ url: nats.url, name: "relay-outage-test", log: silentLogger() });
    dir = mkdtempSync(join(tmpdir(), "ftgo-relay-outage-"));
    db = openDatabase(join(dir, "order.db"), []);
    outbox = createOutbox(db);
    relay = startOutboxRelay({ db, nc, log: silentLogger() });
  });
  afterAll(async () => {
    await relay.stop();
    await nc.close();
    db.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const approve = (orderId: string) =>
    db.transaction(() => outbox.append(OrderApprovedSchema, { orderId }, { correlationId: orderId }))();

  it("keeps the events, reports the lag, and publishes each once, in order, when NATS is back", async () => {
    const sent = ["order-a", "order-b", "order-a"].map(approve);
    relay.kick();
    await waitFor(() => relay.stats().published === 3, { message: "published before the outage" });

    nats.kill("SIGKILL");
    sent.push(...["order-b", "order-a", "order-c", "order-a", "order-b"].map(approve));
    relay.kick();

    const lag = await waitFor(() => relay.stats().lastError && relay.stats(), {
      timeoutMs: 15_000,
      message: "relay to report the failure",
    });
    expect(lag).toMatchObject({ pending: 5, published: 3, leader: true });
    expect(lag.oldestPendingAgeMs).toBeGreaterThan(0);

    await nats.restart();

    await waitFor(() => relay.stats().pending === 0, { timeoutMs: 20_000, message: "outbox drained after restart" });
    expect(relay.stats().lastError).toBeUndefined();
    expect(await storedMessageIds(nc)).toEqual(sent);
  });
});

/** Every message id in the order stream, in stream order. */
async function storedMessageIds(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info("FTGO_ORDER_EVENTS");
  const ids: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage("FTGO_ORDER_EVENTS", { seq });
    if (message) ids.push(message.header.get("Ftgo-Message-Id"));
  }
  return ids;
}
