// Dead letters. A message that can never be handled (it does not decode), or that failed every
// attempt, would block its partition forever: its receivers keep order, so nothing behind it moves.
// The consumer moves it aside instead, to a dead-letter channel: the stream FTGO_DEAD_LETTERS,
// subject `ftgo.deadletter.<service>`, with the original body and header plus why it got there. A
// person looks at it (`npm run dead-letters -- list`), fixes the cause, and replays it.
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  StorageType,
  type StoredMsg,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { DEFAULT_MAX_PAYLOAD, wireSize } from "./broker-limit.js";
import { channelOf, ensureStream, isChannelSubject, streamName } from "./channels.js";
import { headerRecord, MessageHeader, toNatsHeaders } from "./envelope.js";

export const DEAD_LETTER_STREAM = "FTGO_DEAD_LETTERS";

/** The headers a dead letter adds to the original ones. */
export const DeadLetterHeader = {
  Reason: "Ftgo-Dead-Letter-Reason",
  Service: "Ftgo-Dead-Letter-Service",
  OriginalSubject: "Ftgo-Original-Subject",
  OriginalStream: "Ftgo-Original-Stream",
  OriginalSequence: "Ftgo-Original-Sequence",
  Deliveries: "Ftgo-Deliveries",
  /** On a dead letter too big to keep whole: the original body's size. Its body is only the first bytes. */
  TruncatedFrom: "Ftgo-Dead-Letter-Truncated-From",
} as const;

/** One dead letter, as `listDeadLetters` shows it. */
export interface DeadLetter {
  /** Its sequence in FTGO_DEAD_LETTERS: what `replayDeadLetter` takes. */
  readonly seq: number;
  /** The service that gave up on it. */
  readonly service: string;
  readonly originalSubject: string;
  readonly type: string | undefined;
  readonly messageId: string | undefined;
  readonly correlationId: string | undefined;
  readonly reason: string;
  readonly deliveries: number;
  readonly time: Date;
  /** Where the original is (while its stream keeps it): a truncated dead letter's only full copy. */
  readonly originalStream: string | undefined;
  readonly originalSequence: number | undefined;
  /** The original body's size when the dead letter keeps only its first bytes; undefined when whole. */
  readonly truncatedFrom: number | undefined;
}

/** Thrown by replayDeadLetter for a dead letter it will not send: not to a channel, or not whole. */
export class ReplayRefusedError extends Error {
  override readonly name = "ReplayRefusedError";
}

/** Thrown by replayDeadLetter when there is no dead letter with that sequence (never was, or replayed). */
export class DeadLetterNotFoundError extends Error {
  override readonly name = "DeadLetterNotFoundError";
}

/**
 * Creates (or updates) the dead-letter stream. Dead letters have no maximum age: each is a business
 * operation that did not happen, and is kept until someone replays it. Direct get is on, so that
 * listing reads messages by subject without creating a consumer.
 */
export async function ensureDeadLetterStream(jsm: JetStreamManager, replicas = 1): Promise<void> {
  await ensureStream(jsm, {
    name: DEAD_LETTER_STREAM,
    description: "Messages a service gave up on: replay them with `npm run dead-letters -- replay <seq>`",
    subjects: ["ftgo.deadletter.>"],
    storage: StorageType.File,
    duplicate_window: nanos(2 * 60_000),
    allow_direct: true,
    num_replicas: replicas,
  });
}

/** Room left for the dead-letter headers a message may not already carry, and the publish's own. */
const HEADER_SLACK = 256;
/** How much of each original header value a dead letter keeps when the headers alone are too big. */
const MAX_HEADER_VALUE = 512;

/**
 * Publishes `msg` as a dead letter of `service`, with `reason`. Its `Nats-Msg-Id` names the original
 * stream position, so a retry after a lost acknowledgement does not store it twice. The caller then
 * terminates the original (`term()`), so JetStream stops redelivering it. A message too big to go
 * whole with the dead letter's headers (`maxPayload`, the server's) still goes: its body cut to fit
 * and `Ftgo-Dead-Letter-Truncated-From` set, and its stream and sequence name where the whole one is.
 */
export async function sendToDeadLetters(
  js: JetStreamClient,
  service: string,
  msg: JsMsg,
  reason: string,
  maxPayload: number = DEFAULT_MAX_PAYLOAD,
) {
  const { stream, streamSequence, deliveryCount } = msg.info;
  const msgID = `${stream}.${streamSequence}.${service}.dead`;
  const record: Record<string, string> = {
    ...headerRecord(msg.headers),
    [DeadLetterHeader.Reason]: reason.replace(/\s+/g, " ").slice(0, 1_000), // a header is one line
    [DeadLetterHeader.Service]: service,
    [DeadLetterHeader.OriginalSubject]: msg.subject,
    [DeadLetterHeader.OriginalStream]: stream,
    [DeadLetterHeader.OriginalSequence]: String(streamSequence),
    [DeadLetterHeader.Deliveries]: String(deliveryCount),
  };
  const room = () => maxPayload - HEADER_SLACK - wireSize({ ...record, [MessageHeader.NatsMsgId]: msgID }, 0);
  if (room() < 0) {
    // Headers a sender made huge: keep the start of each, enough for a person to recognise it.
    for (const [name, value] of Object.entries(record)) record[name] = value.slice(0, MAX_HEADER_VALUE);
  }
  let body = msg.data;
  if (body.length > room()) {
    record[DeadLetterHeader.TruncatedFrom] = String(body.length);
    body = body.subarray(0, Math.max(0, room()));
  }
  await js.publish(`ftgo.deadletter.${service}`, body, { headers: toNatsHeaders(record), msgID });
}

/**
 * The dead letters waiting for a person, oldest first; only those of `service` if given. Reads the
 * stream directly (no consumer), so listing changes nothing.
 */
export async function listDeadLetters(nc: NatsConnection, filter: { service?: string } = {}): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  if (!(await streamExists(jsm, DEAD_LETTER_STREAM))) return [];
  const subject = filter.service ? `ftgo.deadletter.${filter.service}` : "ftgo.deadletter.>";
  const nextFrom = (seq: number) => jsm.direct.getMessage(DEAD_LETTER_STREAM, { seq, next_by_subj: subject });
  const letters: DeadLetter[] = [];
  for (let stored = await nextFrom(1); stored; stored = await nextFrom(stored.seq + 1)) {
    letters.push(toDeadLetter(stored));
  }
  return letters;
}

/**
 * Sends dead letter `seq` back to its original subject, with its original body and header, then
 * deletes it, and returns it as it was. Its `Ftgo-Message-Id` is unchanged, so every service that
 * handled it already ignores it; only its `Nats-Msg-Id` is new (`<id>.replay.<seq>`), or JetStream would
 * drop it as a duplicate of the original; it names the dead letter, so a replay retried after a crash is
 * itself dropped. A replay arrives after its order's later messages: handlers must check the state they
 * act on. With `service`, a dead letter of another service is not found: a service replays only its own.
 */
export async function replayDeadLetter(
  nc: NatsConnection,
  seq: number,
  filter: { service?: string } = {},
): Promise<DeadLetter> {
  const jsm = await jetstreamManager(nc);
  const stored = (await streamExists(jsm, DEAD_LETTER_STREAM))
    ? await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq })
    : null;
  const letter = stored ? toDeadLetter(stored) : undefined;
  if (!stored || !letter || (filter.service !== undefined && letter.service !== filter.service)) {
    const whose = filter.service === undefined ? "" : ` of ${filter.service}`;
    throw new DeadLetterNotFoundError(`no dead letter${whose} with sequence ${seq}`);
  }
  refuseUnsafeReplay(letter);
  const original = headerRecord(stored.header);
  for (const name of [...Object.values(DeadLetterHeader), MessageHeader.NatsMsgId]) delete original[name];
  const msgID = `${letter.messageId ?? "unidentified"}.replay.${seq}`;
  await jetstream(nc).publish(letter.originalSubject, stored.data, { headers: toNatsHeaders(original), msgID });
  await jsm.streams.deleteMessage(DEAD_LETTER_STREAM, seq);
  return letter;
}

/**
 * A dead letter's headers are whatever its sender wrote: replaying publishes with the operator's
 * rights, so it goes only to the channel subject (`ftgo.<domain>.<kind>.<name>.<partition>`) of the
 * stream it says it came from, never to an API subject such as `$JS.API.STREAM.PURGE.…`; and only whole.
 */
function refuseUnsafeReplay(letter: DeadLetter): void {
  const { seq, originalSubject: subject, originalStream } = letter;
  if (!subject) throw new ReplayRefusedError(`dead letter ${seq} does not say where it came from`);
  if (!isChannelSubject(subject)) {
    throw new ReplayRefusedError(
      `dead letter ${seq} is not replayed: ${JSON.stringify(subject)} is not an ftgo channel subject (ftgo.<domain>.<event|command|reply>.<name>.<partition>)`,
    );
  }
  const { domain, kind } = channelOf(subject);
  if (originalStream !== undefined && originalStream !== streamName(domain, kind)) {
    throw new ReplayRefusedError(
      `dead letter ${seq} is not replayed: it says it came from ${originalStream}, but ${subject} belongs to ${streamName(domain, kind)}`,
    );
  }
  if (letter.truncatedFrom !== undefined) {
    throw new ReplayRefusedError(
      `dead letter ${seq} is not replayed: it keeps only part of a ${letter.truncatedFrom}-byte body; the whole message is ${originalStream} sequence ${letter.originalSequence}`,
    );
  }
}

function toDeadLetter(stored: StoredMsg): DeadLetter {
  const header = (name: string) => (stored.header.has(name) ? stored.header.get(name) : undefined);
  return {
    seq: stored.seq,
    service: header(DeadLetterHeader.Service) ?? stored.subject.replace("ftgo.deadletter.", ""),
    originalSubject: header(DeadLetterHeader.OriginalSubject) ?? "",
    type: header(MessageHeader.Type),
    messageId: header(MessageHeader.MessageId),
    correlationId: header(MessageHeader.CorrelationId),
    reason: header(DeadLetterHeader.Reason) ?? "",
    deliveries: Number(header(DeadLetterHeader.Deliveries) ?? 0),
    time: stored.time,
    originalStream: header(DeadLetterHeader.OriginalStream),
    originalSequence: optionalNumber(header(DeadLetterHeader.OriginalSequence)),
    truncatedFrom: optionalNumber(header(DeadLetterHeader.TruncatedFrom)),
  };
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined || text === "" || Number.isNaN(Number(text)) ? undefined : Number(text);
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return false;
    throw err;
  }
}
