// One step of the outbox relay: a batch of rows in flight at once. Publishing a row and awaiting its
// ack before the next one costs a broker round trip and a SQLite commit per row, which is what kept the
// outbox's commit→publish lag in the hundreds of milliseconds under load. A batch reads up to
// BATCH_SIZE rows in `seq` (commit) order, issues their publishes back to back on the relay's one
// connection, so the server receives and each stream stores them in that order, awaits the acks
// together, and marks the acknowledged rows published in ONE transaction that also renews the lease.
//
// Order under failure. A publish can fail while others of its batch succeed (a timeout, a stream that
// refuses one message, the connection dropping half way through). Two rules keep each order's messages
// in commit order whatever happened:
//   1. Only the prefix of the batch before the first failure is marked published; the relay then backs
//      off and starts again from the failed row, so it and every row after it are published again, in
//      order. Copies of rows that had landed carry the same `Nats-Msg-Id`, and JetStream drops them.
//   2. A batch never holds two rows of one order bound for one stream: the batch ends before such a
//      row. So an order's next row is only issued once its previous one in that stream is acknowledged,
//      and no failure pattern can let it overtake. (Orders' rows in different streams are never read in
//      one sequence by anyone; rows of different orders need no order between them.)
// A row the broker refuses for ever is parked (parked.ts) and the batch goes on past it: it was never
// sent, so nothing of its order can have overtaken it on the wire.
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import type { Database } from "../db.js";
import type { Logger } from "../log.js";
import { startPublishSpan } from "../telemetry/messaging-spans.js";
import { outboxPublishLag } from "../telemetry/metrics.js";
import { wireSize } from "./broker-limit.js";
import { channelOf, ensureChannelStream } from "./channels.js";
import { MessageHeader, toNatsHeaders } from "./envelope.js";
import type { Lease } from "./lease.js";
import type { OutboxRow } from "./outbox.js";
import { isPermanentPublishError, PermanentPublishError, type parker } from "./parked.js";

/** Rows in flight at once: enough to carry a burst in one round trip, few enough to stay under the ack timeout. */
export const BATCH_SIZE = 64;

export interface BatchOutcome {
  /** Rows read: 0 means the outbox had nothing pending. */
  readonly read: number;
  /** Rows acknowledged by JetStream and marked published. */
  readonly published: number;
  /** Whether this relay still holds the lease after the batch. */
  readonly leader: boolean;
  /** The first failure that was not permanent: the rows from it on stay pending. */
  readonly failure?: unknown;
}

export interface BatchPublisherOptions {
  readonly db: Database;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly log: Logger;
  readonly lease: Lease;
  /** Where a row the broker will never take goes (the relay's; it counts them for its stats). */
  readonly parked: ReturnType<typeof parker>;
  /** Called after a row is parked. */
  readonly onParked: () => void;
  /** Copies of each stream it ensures (config.streamReplicas). Default 1. */
  readonly streamReplicas?: number;
}

export interface BatchPublisher {
  /** Publishes the next batch of pending rows. Throws only when no publish was issued (e.g. a stream could not be ensured). */
  publishNext(): Promise<BatchOutcome>;
  /** Forgets which streams exist: after a failure, the missing stream may be what went wrong. */
  forgetStreams(): void;
}

type Channel = ReturnType<typeof channelOf>;

/** A row ready to go (its subject, headers and stream known), or one the broker will never take. */
type Planned =
  | { readonly row: OutboxRow; readonly channel: Channel; readonly stream: string; readonly headers: MsgHdrs }
  | { readonly row: OutboxRow; readonly refused: PermanentPublishError };

/** Publishes a service's pending outbox rows a batch at a time, keeping the rules above. */
export function createBatchPublisher(options: BatchPublisherOptions): BatchPublisher {
  const { db, nc, js, log, lease, parked } = options;
  const pending = db.prepare<[number], OutboxRow>(
    "SELECT * FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?",
  );
  const markPublished = db.prepare<[number, number]>("UPDATE outbox SET published_at = ? WHERE seq = ?");
  const settle = db.transaction((seqs: readonly number[]): boolean => {
    const now = Date.now();
    for (const seq of seqs) markPublished.run(now, seq);
    return lease.renew();
  });
  const ensuredStreams = new Set<string>();

  /** The rows of this batch: read order, cut before a second row of one order for one stream. */
  function plan(rows: readonly OutboxRow[]): Planned[] {
    const batch: Planned[] = [];
    const inFlight = new Set<string>();
    for (const row of rows) {
      const ready = prepare(row);
      if ("stream" in ready) {
        const key = `${ready.stream} ${row.correlation_id}`;
        if (inFlight.has(key)) break; // rule 2: it goes in a later batch, once this one is acknowledged
        inFlight.add(key);
      }
      batch.push(ready);
    }
    return batch;
  }

  /** The row's stream and headers, or why the broker will never take it. */
  function prepare(row: OutboxRow): Planned {
    let channel: Channel;
    try {
      channel = channelOf(row.subject);
    } catch (err) {
      return { row, refused: new PermanentPublishError(err instanceof Error ? err.message : String(err)) };
    }
    const record = JSON.parse(row.headers) as Record<string, string>;
    const size = wireSize({ ...record, [MessageHeader.NatsMsgId]: row.message_id }, row.payload.length);
    const limit = nc.info?.max_payload;
    if (limit !== undefined && size > limit) {
      const refused = new PermanentPublishError(`${row.type} is ${size} bytes, over the broker's max_payload ${limit}`);
      return { row, refused };
    }
    return { row, channel, stream: `${channel.domain}.${channel.kind}`, headers: toNatsHeaders(record) };
  }

  /** Before the first publish to a channel's stream, makes sure the stream exists (in order, before any publish). */
  async function ensureStreams(batch: readonly Planned[]): Promise<void> {
    for (const planned of batch) {
      if (!("stream" in planned) || ensuredStreams.has(planned.stream)) continue;
      await ensureChannelStream(nc, planned.channel.domain, planned.channel.kind, options.streamReplicas);
      ensuredStreams.add(planned.stream);
    }
  }

  function park(row: OutboxRow, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    parked.park(row.seq, reason);
    options.onParked();
    log.error(
      { orderId: row.correlation_id, messageId: row.message_id, type: row.type, subject: row.subject, reason },
      "outbox row parked: the broker will never take it; the order needs a person (npm run dead-letters -- parked)",
    );
  }

  return {
    async publishNext() {
      const rows = pending.all(BATCH_SIZE);
      if (rows.length === 0) return { read: 0, published: 0, leader: true };
      const batch = plan(rows);
      await ensureStreams(batch);
      // Issued in one synchronous loop: the client writes them to the socket together, in this order.
      const acks = batch.map((planned): Promise<PubAck> => {
        if ("refused" in planned) return Promise.reject(planned.refused);
        const { row, headers } = planned;
        const span = startPublishSpan(
          { subject: row.subject, messageId: row.message_id, correlationId: row.correlation_id },
          headers.get(MessageHeader.TraceParent) || undefined,
        );
        if (span.traceparent) headers.set(MessageHeader.TraceParent, span.traceparent); // the consumer continues here
        const ack = js.publish(row.subject, row.payload, { msgID: row.message_id, headers });
        ack.then(
          () => span.end(),
          (err: unknown) => span.end(err),
        );
        return ack;
      });
      const results = await Promise.allSettled(acks);
      const acknowledged: number[] = [];
      let failure: unknown;
      for (const [i, result] of results.entries()) {
        const { row } = batch[i] as Planned;
        if (result.status === "fulfilled") {
          acknowledged.push(row.seq);
          outboxPublishLag.observe(Math.max(0, Date.now() - row.created_at) / 1000);
          if (result.value.duplicate) log.debug({ messageId: row.message_id }, "outbox row was already in JetStream");
        } else if (isPermanentPublishError(result.reason)) {
          park(row, result.reason);
        } else {
          failure = result.reason; // rule 1: this row and all behind it stay pending
          break;
        }
      }
      const leader = settle(acknowledged);
      return { read: rows.length, published: acknowledged.length, leader, failure };
    },
    forgetStreams() {
      ensuredStreams.clear();
    },
  };
}
