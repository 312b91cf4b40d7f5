// Message channels. Three kinds, each a JetStream stream per domain, so the broker buffers messages
// until their receivers are up:
//
//   event    ftgo.<domain>.event.<name>.<partition>     FTGO_<DOMAIN>_EVENTS    publish-subscribe
//   command  ftgo.<domain>.command.<name>.<partition>   FTGO_<DOMAIN>_COMMANDS  point-to-point
//   reply    ftgo.<domain>.reply.<name>.<partition>     FTGO_<DOMAIN>_REPLIES   point-to-point
//   request  ftgo.<domain>.request.<name>               (core NATS, no stream)  publish-subscribe
//
// A domain's events go to publish-subscribe channels: every service that subscribes gets each event. A
// command goes to the point-to-point channel its receiver owns (the command type's domain): only that
// service reads it. A command that wants an answer names a reply channel, owned by the sender
// (`ftgo.order.reply`), in its `Ftgo-Reply-To` header; the receiver sends its reply there, with the
// command's correlation id. Within one receiving service every channel is point-to-point: its
// instances are competing receivers, and each message reaches exactly one of them (see consumer.ts).
// To keep competing receivers from handling two messages of one order at once or out of order, every
// channel is split into partitions by a hash of the order id.
//
// A request channel is the one kind outside JetStream: publish/async responses. Every live responder
// subscribes (no queue group) and answers on the reply subject the request names; nothing is kept for a
// responder that is away, because only an answer from one that is up now is worth having (Delivery asks
// the couriers for quotes this way). No partitions either: nothing there is consumed in order.
//
//   ftgo.order.event.order_created.2      ftgo.kitchen.command.create_ticket.2      ftgo.order.reply.ticket_created.2
//   ftgo.delivery.request.courier_quote_request
import type { DescMessage } from "@bufbuild/protobuf";
import {
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { errors, type NatsConnection, nanos } from "@nats-io/transport-node";
import { ExponentialBackoff, handleWhen, noJitterGenerator, retry } from "cockatiel";

/**
 * How many partitions every event channel has. One system-wide constant: a publisher and its
 * subscribers must agree on it, or an order's events would land on partitions nobody reads in order.
 * More partitions, more parallelism across orders; one order's events always share one partition.
 */
export const DEFAULT_PARTITIONS = 4;

/** How long JetStream remembers a `Nats-Msg-Id` to drop a second publish of the same message. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** How long an event stays in its stream: a service that was down this long must be rebuilt some other way. */
const MAX_AGE_MS = 7 * 24 * 60 * 60_000;

const utf8 = new TextEncoder();

/**
 * The partition of a key (the order id): FNV-1a 32-bit of its UTF-8 bytes, modulo `partitions`. A
 * stable hash, the same in every process and language, so that all of one order's events share one
 * partition — the unit in which competing receivers keep message ordering.
 */
export function partitionOf(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new RangeError(`partitions must be ≥ 1, not ${partitions}`);
  let hash = 0x811c9dc5; // FNV offset basis
  for (const byte of utf8.encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193); // × FNV prime, modulo 2^32
  }
  return (hash >>> 0) % partitions;
}

/** The publishing domain of a message type: the second token, `ftgo.order.v1.OrderCreated` → `order`. */
export function domainOf(typeName: string): string {
  const [root, domain, ...rest] = typeName.split(".");
  if (root !== "ftgo" || !domain || rest.length !== 2) {
    throw new Error(`${typeName} is not an ftgo message type (ftgo.<domain>.<version>.<Name>)`);
  }
  return domain;
}

/** The event's name in a subject: its message name in snake_case, `CreditCardAuthorized` → `credit_card_authorized`. */
export function eventName(schema: DescMessage): string {
  return schema.name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** What a channel carries: events (publish-subscribe), commands or replies (point-to-point). */
export type ChannelKind = "event" | "command" | "reply";

const STREAM_SUFFIX: Record<ChannelKind, string> = { event: "EVENTS", command: "COMMANDS", reply: "REPLIES" };
const DOMAIN = /^[a-z][a-z0-9]*$/;

/**
 * The subject an event of this type is published on, in `partition`: the address of one partition of
 * its publish-subscribe channel. The outbox computes it when the message is written.
 */
export function eventSubject(schema: DescMessage, partition: number): string {
  return `ftgo.${domainOf(schema.typeName)}.event.${eventName(schema)}.${partition}`;
}

/** The subject a command of this type is sent on: its receiver's (the type's domain's) command channel. */
export function commandSubject(schema: DescMessage, partition: number): string {
  return `ftgo.${domainOf(schema.typeName)}.command.${eventName(schema)}.${partition}`;
}

/**
 * The subject a request of this type is published on: the type's domain's request channel, which every
 * responder subscribes to and answers on the request's reply subject. Core NATS: no stream, no partition.
 */
export function requestSubject(schema: DescMessage): string {
  return `ftgo.${domainOf(schema.typeName)}.request.${eventName(schema)}`;
}

/** The reply channel a domain's service reads the replies to its commands from: `ftgo.order.reply`. */
export function replyChannel(domain: string): string {
  assertDomain(domain);
  return `ftgo.${domain}.reply`;
}

/** The domain owning a reply channel, `ftgo.order.reply` → `order`; undefined if it is not one. */
export function replyChannelDomain(channel: string): string | undefined {
  const [root, domain, kind, ...rest] = channel.split(".");
  return root === "ftgo" && domain && DOMAIN.test(domain) && kind === "reply" && rest.length === 0 ? domain : undefined;
}

/** The subject a reply of this type is sent on, in `partition` of the reply channel `channel`. */
export function replySubject(channel: string, schema: DescMessage, partition: number): string {
  if (!replyChannelDomain(channel)) throw new Error(`${JSON.stringify(channel)} is not a reply channel`);
  return `${channel}.${eventName(schema)}.${partition}`;
}

/** The domain and kind of a channel subject: `ftgo.kitchen.command.create_ticket.1` → kitchen, command. */
export function channelOf(subject: string): { domain: string; kind: ChannelKind } {
  const [, domain = "", kind] = subject.split(".");
  if (!DOMAIN.test(domain) || !(kind === "event" || kind === "command" || kind === "reply")) {
    throw new Error(`${subject} is not an ftgo channel subject`);
  }
  return { domain, kind };
}

const NAME = /^[a-z][a-z0-9_]*$/;
const PARTITION = /^(0|[1-9][0-9]{0,5})$/;

/**
 * The parts of a channel subject, `ftgo.kitchen.command.create_ticket.1` → kitchen, command,
 * create_ticket, 1; undefined for anything else (another root, a wildcard, an API subject, a missing
 * or extra token). What a subject taken from a message's header must pass before anything publishes to it.
 */
export function parseChannelSubject(
  subject: string,
): { domain: string; kind: ChannelKind; name: string; partition: number } | undefined {
  const [root, domain = "", kind, name = "", partition = "", ...rest] = subject.split(".");
  if (root !== "ftgo" || rest.length > 0 || !DOMAIN.test(domain) || !NAME.test(name) || !PARTITION.test(partition)) {
    return undefined;
  }
  if (!(kind === "event" || kind === "command" || kind === "reply")) return undefined;
  return { domain, kind, name, partition: Number(partition) };
}

/** Whether `subject` is the subject of one partition of a channel (see parseChannelSubject). */
export function isChannelSubject(subject: string): boolean {
  return parseChannelSubject(subject) !== undefined;
}

/** The subjects of one partition of one of a domain's channels: a partition consumer's filter. */
export function partitionFilter(domain: string, partition: number, kind: ChannelKind = "event"): string {
  return `ftgo.${domain}.${kind}.*.${partition}`;
}

/**
 * The name of the stream that holds a domain's events, `order` → `FTGO_ORDER_EVENTS`: one stream per
 * publishing domain, the broker's buffer behind all of that domain's publish-subscribe channels.
 */
export function eventStreamName(domain: string): string {
  return streamName(domain, "event");
}

/** The stream behind a domain's channels of one kind: FTGO_KITCHEN_COMMANDS, FTGO_ORDER_REPLIES, … */
export function streamName(domain: string, kind: ChannelKind): string {
  assertDomain(domain);
  return `FTGO_${domain.toUpperCase()}_${STREAM_SUFFIX[kind]}`;
}

function assertDomain(domain: string): void {
  if (!DOMAIN.test(domain)) throw new Error(`${JSON.stringify(domain)} is not a domain name`);
}

/**
 * Creates (or brings up to date) the stream of a domain's events: file storage, a two-minute duplicate
 * window for `Nats-Msg-Id` (the relay's retries publish a message again; JetStream keeps one copy),
 * seven days of history. Both publishers and subscribers call it at start, so neither depends on the
 * other having started first; it is idempotent and safe when several instances start together.
 */
export function ensureEventStream(nc: NatsConnection, domain: string, replicas = 1): Promise<void> {
  return ensureChannelStream(nc, domain, "event", replicas);
}

const STREAM_DESCRIPTION: Record<ChannelKind, (domain: string) => string> = {
  event: (domain) => `Events published by the ${domain} service`,
  command: (domain) => `Commands sent to the ${domain} service`,
  reply: (domain) => `Replies to the commands the ${domain} service sent`,
};

/**
 * Creates (or updates) the stream behind a domain's channels of one kind, with the settings above and `replicas`
 * copies (config.streamReplicas: 1 on a single server, 3 on a three-node cluster).
 */
export async function ensureChannelStream(
  nc: NatsConnection,
  domain: string,
  kind: ChannelKind,
  replicas = 1,
): Promise<void> {
  await ensureStream(await jetstreamManager(nc), {
    name: streamName(domain, kind),
    description: STREAM_DESCRIPTION[kind](domain),
    subjects: [`ftgo.${domain}.${kind}.>`],
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: nanos(MAX_AGE_MS),
    num_replicas: replicas,
  });
}

/** Error code of "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

/** How long a start keeps asking JetStream for a stream while it does not answer (a cluster electing, say). */
const ENSURE_STREAM_WITHIN_MS = 60_000;
/** The pauses between those requests: 250 ms, doubling up to 4 s (no jitter: one start, no herd to spread). */
const ENSURE_STREAM_BACKOFF = { initialDelay: 250, maxDelay: 4_000, generator: noJitterGenerator } as const;

/**
 * Adds a stream, or updates it when it exists with other settings. Adding a stream that exists with the
 * same settings succeeds, so two instances starting together both succeed. A request JetStream leaves
 * unanswered (a cluster still electing its leaders, or too busy to answer within the request's timeout) is
 * asked again, for up to a minute: adding is idempotent, and a service that gave up here would not start.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & Pick<StreamConfig, "name">,
): Promise<void> {
  const deadline = Date.now() + ENSURE_STREAM_WITHIN_MS;
  // The minute bounds the attempts, not a count: how many fit depends on how long each request waits.
  const askAgain = retry(
    handleWhen((err) => unanswered(err) && Date.now() < deadline),
    { maxAttempts: Number.POSITIVE_INFINITY, backoff: new ExponentialBackoff(ENSURE_STREAM_BACKOFF) },
  );
  await askAgain.execute(() => addOrUpdateStream(jsm, config));
}

/** A timeout, or no responder at all (which the client reports as JetStream not enabled). */
function unanswered(err: unknown): boolean {
  return err instanceof errors.TimeoutError || (err instanceof Error && err.name === "JetStreamNotEnabled");
}

async function addOrUpdateStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & Pick<StreamConfig, "name">,
): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
    const { name, storage: _immutable, ...settings } = config;
    await jsm.streams.update(name, settings);
  }
}
