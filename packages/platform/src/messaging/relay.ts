// The outbox relay: the second half of transactional messaging. It reads committed outbox rows in
// order and publishes them to JetStream, a batch in flight at a time (relay-batch.ts), marking each
// published only once JetStream has stored it. A
// crash between the two means the row is published again at the next start; `Nats-Msg-Id` (the
// message id) lets JetStream drop that second copy, and the receivers' processed-messages table drops
// anything that still gets through. Delivery is at least once; the effect is once. A row the broker
// will refuse however often it is sent is parked (parked.ts), so it cannot hold up the rows behind it.
import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Database } from "../db.js";
import type { Logger } from "../log.js";
import { createPause } from "../pause.js";
import { outboxOldestPending, outboxPending } from "../telemetry/metrics.js";
import { recordMaxPayload } from "./broker-limit.js";
import { onOutboxCommit } from "./commit-signal.js";
import { createLease } from "./lease.js";
import { createOutboxTable } from "./outbox.js";
import { parker } from "./parked.js";
import { createBatchPublisher } from "./relay-batch.js";

export interface OutboxStats {
  /** Rows not yet published. */
  pending: number;
  /** Age of the oldest of them; 0 when none: how far behind the broker is. */
  oldestPendingAgeMs: number;
  /** Rows this relay has published since it started. */
  published: number;
  /** Why the last attempt failed, until an attempt succeeds. */
  lastError: string | undefined;
  /** Whether this relay holds the lease, i.e. is the one publishing from this database. */
  leader: boolean;
  /**
   * Rows parked because the broker would never take them (`npm run dead-letters -- parked` lists them):
   * each is an order whose saga waits for a person, so health should say degraded while it is above 0.
   */
  parked: number;
}

export interface OutboxRelay {
  /** Publish now: call after committing a transaction that appended messages. */
  kick(): void;
  stats(): OutboxStats;
  /** Calls `listener` each time a row is parked (health follows `stats().parked`). */
  onParked(listener: () => void): void;
  /** Publishes what is pending once more (unless the broker is away), gives up the lease, and stops. */
  stop(): Promise<void>;
}

export interface OutboxRelayOptions {
  readonly db: Database;
  readonly nc: NatsConnection;
  readonly log: Logger;
  /** How often to look for rows nobody kicked about (e.g. written by another instance). Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** How long published rows are kept, for inspection, before they are deleted. Default 1 h. */
  readonly retentionMs?: number;
  /** Copies of each stream it ensures (config.streamReplicas). Default 1. */
  readonly streamReplicas?: number;
}

const PUBLISH_TIMEOUT_MS = 3_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Starts the relay of a service's outbox: it publishes unpublished rows in batches, in `seq` order (so
 * each order's events leave in commit order, also when a batch fails half way: see relay-batch.ts),
 * after every transaction that appends to this database's outbox, on every `kick()`, and at every poll
 * (for rows another process wrote). A kick or commit during a pass makes one more pass, without waiting.
 * While NATS is away it retries with exponential backoff, and `stats()` shows the growing lag. Before
 * publishing to a channel's stream the first time it ensures the stream exists. When several instances
 * share one database file, a lease row elects one leader to publish; the others stand by. It records
 * the server's `max_payload` at start (and at every reconnect) for the outbox to check appends against;
 * a row that fails for good all the same is parked, with one error in the log, and the next goes on.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, log, pollIntervalMs = 500, retentionMs = 60 * 60_000 } = options;
  const js = jetstream(options.nc, { timeout: PUBLISH_TIMEOUT_MS });
  createOutboxTable(db);
  recordMaxPayload(db, options.nc.info?.max_payload);
  const parked = parker(db);
  const lease = createLease(db, "outbox_lease", randomUUID());
  const parkedListeners: (() => void)[] = [];
  const batches = createBatchPublisher({
    db,
    nc: options.nc,
    js,
    log,
    lease,
    parked,
    streamReplicas: options.streamReplicas,
    onParked: () => {
      for (const listener of parkedListeners) listener();
    },
  });
  const lag = db.prepare<[], { pending: number; oldest: number | null }>(
    "SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL",
  );
  const prune = db.prepare<[number]>("DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?");

  const stopListening = onOutboxCommit(db, kick);
  let published = 0;
  let lastError: string | undefined;
  let leader = false;
  let stopping = false;
  let kicked = false;
  const rest = createPause();
  let lastPrune = 0;
  let connected = true; // connectNats returns a connected connection

  // While NATS is away, a publish would only sit in the client's buffer until it timed out: report the
  // outage at once instead, and retry the moment the connection is back rather than at the next backoff.
  void (async () => {
    for await (const { type } of options.nc.status()) {
      if (stopping) break; // (or it ends when the connection closes)
      if (type === "disconnect") connected = false;
      if (type === "reconnect") {
        connected = true;
        recordMaxPayload(db, options.nc.info?.max_payload); // perhaps another server, with another limit
        rest.wake({ force: true });
      }
    }
  })();

  /** Publishes batches until none is left or this relay has lost the lease; throws a batch's failure. */
  async function publishPending(): Promise<void> {
    for (;;) {
      const batch = await batches.publishNext();
      published += batch.published;
      if (batch.failure !== undefined) throw batch.failure;
      if (batch.read === 0 || !batch.leader) return;
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      kicked = false;
      try {
        if (!connected) throw new Error("NATS is disconnected");
        leader = lease.fresh() || lease.renew(); // each batch renews it too: no write per pass while busy
        if (leader) await publishPending();
        if (leader && Date.now() - lastPrune >= Math.min(retentionMs, 60_000)) {
          prune.run(Date.now() - retentionMs);
          lastPrune = Date.now();
        }
        if (failures > 0) log.info({ after: failures }, "outbox relay publishing again");
        failures = 0;
        lastError = undefined;
      } catch (err) {
        failures++;
        batches.forgetStreams(); // the stream may be what is missing
        lastError = err instanceof Error ? err.message : String(err);
        if (failures === 1) log.warn({ err }, "outbox relay cannot publish; retrying with backoff");
        else log.debug({ err, failures }, "outbox relay still cannot publish");
      }
      // A backoff is not cut short by kicks, only by the connection coming back or stop().
      if (failures > 0) await rest.sleep(retryDelay(failures), { wakeable: false });
      else if (!kicked) await rest.sleep(pollIntervalMs);
    }
    if (connected && lastError === undefined && lease.renew()) await publishPending().catch(() => {}); // or at next start
    lease.release();
    leader = false;
  }

  function stats(): OutboxStats {
    const { pending, oldest } = lag.get() ?? { pending: 0, oldest: null };
    const oldestPendingAgeMs = oldest === null ? 0 : Math.max(0, Date.now() - oldest);
    return { pending, oldestPendingAgeMs, published, lastError, leader, parked: parked.count() };
  }

  /** Another pass, now if the relay rests, right after the current one if it is publishing. */
  function kick(): void {
    kicked = true;
    rest.wake();
  }

  const running = run();
  // How far behind the outbox is, read when Prometheus scrapes (metrics.ts).
  const unsample = [
    outboxPending.sample(() => [{ labels: {}, value: stats().pending }]),
    outboxOldestPending.sample(() => [{ labels: {}, value: stats().oldestPendingAgeMs / 1000 }]),
  ];
  return {
    kick,
    onParked(listener) {
      parkedListeners.push(listener);
    },
    stats,
    async stop() {
      for (const stop of unsample) stop();
      stopListening();
      stopping = true;
      rest.wake({ force: true });
      await running;
    },
  };
}

/** Exponential backoff with jitter: 100 ms, 200 ms, … up to 5 s, each between half and all of that. */
function retryDelay(failures: number): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failures - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
