// Looking at (and meddling with) the mesh's JetStream streams from a test: which event streams exist,
// when everything published has been consumed, and a republisher that delivers every message again.
import { randomUUID } from "node:crypto";
import { DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import { SAGA_PARTICIPANTS, type SagaDatabases } from "./saga-audit.js";

/**
 * Every stream of the mesh's channels: events (FTGO_ORDER_EVENTS, …), commands (FTGO_KITCHEN_COMMANDS, …)
 * and replies (FTGO_ORDER_REPLIES), not the dead letters.
 */
export async function eventStreams(jsm: JetStreamManager): Promise<string[]> {
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (/^FTGO_\w+_(EVENTS|COMMANDS|REPLIES)$/.test(name)) names.push(name);
  return names.sort();
}

/** How many messages each event stream holds. */
export async function streamMessageCounts(jsm: JetStreamManager): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of await eventStreams(jsm)) counts[name] = (await jsm.streams.info(name)).state.messages;
  return counts;
}

/**
 * True when the mesh has gone quiet: every durable of every event stream has had all its messages
 * delivered and acknowledged, no outbox holds an unpublished row, and no stream grew meanwhile. The
 * outboxes are read after the durables, and the streams before and after both: a message handled
 * while this looked would show up in one of those, so "quiet" cannot be a moment between two steps.
 * `also` is checked right after the streams are first read, while they cannot have grown yet.
 */
export async function meshIsQuiet(
  nc: NatsConnection,
  dbs: SagaDatabases,
  also: () => boolean | Promise<boolean> = () => true,
): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  const lastSeqs = async () => {
    const seqs: number[] = [];
    for (const name of await eventStreams(jsm)) seqs.push((await jsm.streams.info(name)).state.last_seq);
    return seqs.join(",");
  };
  const before = await lastSeqs();
  if (!(await also())) return false;
  for (const stream of await eventStreams(jsm)) {
    for await (const consumer of jsm.consumers.list(stream)) {
      if (consumer.num_pending > 0 || consumer.num_ack_pending > 0) return false;
    }
  }
  const unpublished = SAGA_PARTICIPANTS.some((service) => {
    const row = dbs[service].prepare<[], { n: number }>("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL");
    return (row.get()?.n ?? 0) > 0;
  });
  if (unpublished) return false;
  return (await lastSeqs()) === before;
}

/** A message as it first appeared in its stream. */
export interface OriginalMessage {
  readonly stream: string;
  readonly subject: string;
  readonly messageId: string;
  readonly type: string;
}

export interface Republisher {
  /** Every distinct message seen so far (by Ftgo-Message-Id), in the order seen. */
  originals(): readonly OriginalMessage[];
  /** Copies published so far. */
  copies(): number;
  /** True when every message in the streams is an original it has seen or one of its copies. */
  caughtUp(jsm: JetStreamManager): Promise<boolean>;
  stop(): Promise<void>;
}

/** Marks a copy, for a person reading the stream; receivers do not look at it. */
const COPY_HEADER = "Ftgo-Test-Copy";

/**
 * Tails every event stream (one ordered consumer each, from the first message) and publishes each new
 * message `copies` more times onto its own subject: same body and headers, so the same `Ftgo-Message-Id`,
 * but a fresh `Nats-Msg-Id`, so that JetStream stores every copy and only the receivers' inbox stands
 * between a copy and a second effect. A copy lands behind its original in the same partition, as a
 * redelivery does.
 */
export async function startRepublisher(nc: NatsConnection, { copies = 2 } = {}): Promise<Republisher> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const streams = await eventStreams(jsm);
  const seen = new Map<string, OriginalMessage>();
  let published = 0;
  const tails = await Promise.all(
    streams.map(async (stream) => {
      const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume();
      const done = (async () => {
        for await (const msg of messages) {
          const messageId = msg.headers?.get("Ftgo-Message-Id") ?? "";
          if (!messageId || seen.has(messageId)) continue; // a copy, or not an ftgo message
          seen.set(messageId, { stream, subject: msg.subject, messageId, type: msg.headers?.get("Ftgo-Type") ?? "" });
          for (let copy = 1; copy <= copies; copy++) {
            const headers = natsHeaders();
            for (const [name, values] of msg.headers ?? []) {
              if (name !== "Nats-Msg-Id") for (const value of values) headers.append(name, value);
            }
            headers.set(COPY_HEADER, String(copy));
            await js.publish(msg.subject, msg.data, { headers, msgID: randomUUID() });
            published++;
          }
        }
      })();
      return { messages, done };
    }),
  );
  return {
    originals: () => [...seen.values()],
    copies: () => published,
    async caughtUp(manager) {
      let stored = 0;
      for (const stream of streams) stored += (await manager.streams.info(stream)).state.messages;
      return stored === seen.size * (1 + copies) && published === seen.size * copies;
    },
    async stop() {
      for (const tail of tails) await tail.messages.close();
      await Promise.all(tails.map((tail) => tail.done));
    },
  };
}

/** The `Ftgo-Message-Id` of every message stored on `subject` in `stream`, in stream order. */
export async function storedMessageIds(nc: NatsConnection, stream: string, subject: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream, { subjects_filter: subject });
  const stored = state.subjects?.[subject] ?? 0;
  const ids: string[] = [];
  if (stored === 0) return ids;
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
  const messages = await consumer.consume();
  for await (const msg of messages) {
    ids.push(msg.headers?.get("Ftgo-Message-Id") ?? "");
    if (ids.length === stored) break;
  }
  await messages.close();
  return ids;
}
