// Competing receivers and message ordering. A service consumes each stream it subscribes to (a domain's
// events, its own commands, its own replies) through one durable pull consumer per partition, named
// `<service>-p<k>`. Every instance of the service pulls
// from the same durables, so the instances compete: each event reaches one of them (point-to-point
// within the service), while every other service has durables of its own (publish-subscribe across
// services). Each durable allows one unacknowledged message (`max_ack_pending: 1`), so a partition
// has at most one message in flight across all instances, and an order's events are handled one at a
// time, in the order they were published. The price is head-of-line blocking: a failing message holds
// up its partition until it succeeds or, after `maxDeliver` attempts, goes to the dead letters. JetStream
// itself gives up after a few more (`max_deliver`), so even a message the dead letters will not take
// cannot hold its partition for ever.
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type NatsConnection, type Subscription as NatsSubscription, nanos } from "@nats-io/transport-node";
import { context as traceContext } from "@opentelemetry/api";
import type { Database } from "../db.js";
import type { Logger } from "../log.js";
import { startProcessSpan } from "../telemetry/messaging-spans.js";
import { countersOfChannel } from "../telemetry/metrics.js";
import { describeViolations } from "../validation.js";
import { MessageTooLargeError } from "./broker-limit.js";
import {
  type ChannelKind,
  DEFAULT_PARTITIONS,
  domainOf,
  ensureChannelStream,
  partitionFilter,
  replyChannelDomain,
  streamName,
} from "./channels.js";
import { ensureDeadLetterStream, sendToDeadLetters } from "./dead-letters.js";
import { decodeBody, MalformedMessageError, readEnvelope } from "./envelope.js";
import { createInbox } from "./inbox.js";
import type { Outbox } from "./outbox.js";
import type { OutboxRelay } from "./relay.js";
import { createMessageContext, type MessageContext, type Subscription } from "./subscriptions.js";

/** Messages one pull asks for; a partition's durable still lets only one be unacknowledged. */
const PULL_BATCH = 16;

export interface Consumers {
  /** What each channel's consumer has done since it started, in the order of the subscriptions. */
  stats(): ChannelCounts[];
  /** Stops pulling; handles the message in flight and any the broker already sent (commit and ack). */
  stop(): Promise<void>;
}

/**
 * One consumed channel's counts: the same facts as ftgo_messages_consumed_total, _redelivered_total and
 * _dead_lettered_total, but for this service's consumers alone and by stream rather than by event name.
 */
export interface ChannelCounts {
  /** The stream's subjects without event name and partition: "ftgo.kitchen.event", "ftgo.order.reply". */
  readonly channel: string;
  /** Messages handled (committed and acknowledged). */
  consumed: number;
  /** Deliveries of a message delivered before. */
  redelivered: number;
  /** Messages moved to the dead letters. */
  deadLettered: number;
}

export interface ConsumersOptions {
  readonly nc: NatsConnection;
  readonly db: Database;
  readonly outbox: Outbox;
  /** Kicked after each commit, so that the events a handler appended leave at once. */
  readonly relay?: OutboxRelay;
  readonly log: Logger;
  /** The consuming service's name: its durables are `<service>-p<k>`, its dead letters `ftgo.deadletter.<service>`. */
  readonly service: string;
  readonly subscriptions: readonly Subscription[];
  readonly partitions?: number;
  /** Copies of each stream it ensures (config.streamReplicas). Default 1. */
  readonly streamReplicas?: number;
  /** How long a delivered message may stay unacknowledged before JetStream redelivers it. Default 10 s. */
  readonly ackWaitMs?: number;
  /**
   * Attempts before a message whose handler keeps throwing goes to the dead letters. Default 5. The
   * durables' `max_deliver` is this plus {@link DEAD_LETTER_ATTEMPTS}: the bound on any one message.
   */
  readonly maxDeliver?: number;
  /** Test hook: called with each message before it is handled; e.g. to count deliveries. */
  readonly onDelivery?: (ctx: MessageContext) => void;
}

/**
 * How long one pull request lasts when the streams are replicated on a cluster. A pull waits on the consumer's
 * leader only; when that node dies (or freezes) another replica leads, knowing nothing of the pull, and nats.js
 * notices just by two missed idle heartbeats (half the expiry each) before pulling again. At nats.js's default
 * 30 s that stalled a partition for about 45 s on nats-server 2.9.10 (test/chaos/nats-cluster.test.ts); at 5 s,
 * about 9 s. A single server keeps the default: there is no other leader to move to.
 */
const CLUSTER_PULL_EXPIRES_MS = 5_000;

/** Deliveries, after `maxDeliver`, in which sending a message to the dead letters may still fail and be retried. */
export const DEAD_LETTER_ATTEMPTS = 5;

/**
 * Starts consuming the messages `subscriptions` name: ensures each source stream, this service's
 * partition durables on it and the dead-letter stream, then pulls every partition. Each
 * message takes effect once (the inbox) and is acknowledged only after its transaction commits. A
 * handler that throws gets the message again after a backoff; a malformed message, or one that failed
 * `maxDeliver` times, goes to the dead letters, and the partition moves on. Events of a subscribed
 * stream with no handler here are acknowledged and skipped.
 */
export async function startConsumers(options: ConsumersOptions): Promise<Consumers> {
  const { nc, outbox, relay, log, service, onDelivery } = options;
  const { partitions = DEFAULT_PARTITIONS, ackWaitMs = 10_000, maxDeliver = 5, streamReplicas = 1 } = options;
  const lastDelivery = maxDeliver + DEAD_LETTER_ATTEMPTS; // the durables' max_deliver
  if (!/^[\w-]+$/.test(service)) throw new Error(`service ${JSON.stringify(service)} cannot name a durable`);
  const channels = channelsOf(service, options.subscriptions);
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureDeadLetterStream(jsm, streamReplicas);
  const durables: Durable[] = [];
  const counts: ChannelCounts[] = [];
  for (const { domain, kind, handlers } of channels.values()) {
    await ensureChannelStream(nc, domain, kind, streamReplicas);
    const channelCounts = { channel: `ftgo.${domain}.${kind}`, consumed: 0, redelivered: 0, deadLettered: 0 };
    counts.push(channelCounts);
    for (let partition = 0; partition < partitions; partition++) {
      const durable = await ensurePartitionDurable(jsm, {
        service,
        domain,
        kind,
        partition,
        ackWaitMs,
        maxDeliver: lastDelivery,
      });
      durables.push({ ...durable, handlers, counts: channelCounts });
    }
  }
  const inbox = createInbox(options.db);
  const stopped = new AbortController();
  setMaxListeners(0, stopped.signal); // one listener per partition durable, and a service may have many

  /** Handles one delivery, start to finish: decode, handle once, then ack, nak or dead-letter. */
  async function deliver({ handlers, name: durable, counts }: Durable, msg: JsMsg): Promise<void> {
    let received: ReturnType<typeof decode>;
    try {
      received = decode(handlers, msg);
    } catch (err) {
      return deadLetter(msg, counts, `malformed message: ${errorText(err)}`); // retrying would not help
    }
    if (!received) return msg.ack(); // another message on the channel, not for this service
    const { subscription, message, envelope } = received;
    const ctx = createMessageContext(envelope, { subject: msg.subject, deliveryCount: msg.info.deliveryCount }, outbox);
    const messageLog = log.child({ orderId: ctx.correlationId, messageId: ctx.messageId, type: ctx.type });
    onDelivery?.(ctx);
    const counters = countersOfChannel(msg.subject);
    if (ctx.deliveryCount > 1) {
      counters.redelivered.inc();
      counts.redelivered++;
    }
    const span = startProcessSpan(
      { ...ctx, consumerGroup: durable, deliveryCount: ctx.deliveryCount },
      envelope.traceparent,
      () => Date.now() - msg.time.getTime(), // how long the message waited in its stream
    );
    try {
      // In the span's context: what the handler writes to the outbox continues this trace.
      const handled = traceContext.with(span.context, () =>
        inbox.handleOnce(ctx, () => subscription.handle(message, ctx)),
      );
      if (!handled) span.span.setAttribute("ftgo.duplicate", true);
      span.end();
      messageLog.debug(handled ? "message handled" : "duplicate message ignored");
    } catch (err) {
      span.end(err);
      const deliveries = ctx.deliveryCount;
      if (deliveries >= maxDeliver) {
        return deadLetter(msg, counts, `handler failed ${deliveries} times: ${errorText(err)}`);
      }
      // What it would send can never leave (over the broker's max_payload): trying again would not help.
      if (err instanceof MessageTooLargeError) return deadLetter(msg, counts, `handler failed: ${errorText(err)}`);
      messageLog.warn({ err, deliveries }, "message handler failed; it will be redelivered");
      return msg.nak(retryDelay(deliveries));
    }
    // Only now: the transaction has committed. A plain ack, not ackAck(): waiting for the server to confirm
    // would add a round trip per message and change nothing. If this ack is lost, the message comes back
    // after ackWait and the inbox recognises it; until then max_ack_pending holds the partition, so a lost
    // ack can delay the next message of an order but never let it overtake this one.
    msg.ack();
    counters.consumed.inc();
    counts.consumed++;
    relay?.kick();
  }

  /** The message's envelope, handler and body; undefined if no handler wants it. Throws MalformedMessageError. */
  function decode(handlers: Handlers, msg: JsMsg) {
    const envelope = readEnvelope(msg.headers);
    if (envelope.replyTo !== undefined && !replyChannelDomain(envelope.replyTo)) {
      throw new MalformedMessageError(`${envelope.replyTo} is not a reply channel`);
    }
    const subscription = handlers.get(envelope.type);
    if (!subscription) return undefined;
    const message = decodeBody(subscription.schema, msg.data);
    // A message that breaks its contract's limits would break them again on every redelivery.
    const violations = describeViolations(subscription.schema, message);
    if (violations !== undefined) throw new MalformedMessageError(`breaks its contract: ${violations}`);
    return { envelope, subscription, message };
  }

  async function deadLetter(msg: JsMsg, counts: ChannelCounts, reason: string): Promise<void> {
    const where = { subject: msg.subject, streamSequence: msg.info.streamSequence, reason };
    try {
      await sendToDeadLetters(js, service, msg, reason, nc.info?.max_payload);
      msg.term(); // no reason text: nats-server 2.9 does not understand "+TERM <reason>"
      countersOfChannel(msg.subject).deadLettered.inc();
      counts.deadLettered++;
      log.error(where, "message moved to the dead letters");
    } catch (err) {
      if (msg.info.deliveryCount < lastDelivery) {
        log.error({ ...where, err }, "could not dead-letter a message; it will be redelivered");
        return msg.nak(retryDelay(msg.info.deliveryCount));
      }
      // JetStream would not deliver it again anyway: the partition moves on, and the log says where it is.
      msg.term();
      log.error({ ...where, err }, "could not dead-letter a message on its last delivery; it stays only in its stream");
    }
  }

  /** Pulls one partition until stop() (or the connection is closed), starting over if a pull fails. */
  async function pull(partition: Durable): Promise<void> {
    const { stream, name: durable } = partition;
    while (!stopped.signal.aborted && !nc.isClosed()) {
      try {
        // A standing pull for several messages: JetStream still hands this partition out one at a time
        // (max_ack_pending), but the next message follows the ack at once instead of a new pull request.
        const messages = await (await js.consumers.get(stream, durable)).consume({
          max_messages: PULL_BATCH,
          ...(streamReplicas > 1 && { expires: CLUSTER_PULL_EXPIRES_MS }),
        });
        const drain = () => drainPull(messages);
        if (stopped.signal.aborted) drain();
        stopped.signal.addEventListener("abort", drain);
        try {
          // Also what arrives while stopping, until the drain ends the iteration: at most one message
          // (max_ack_pending), handled rather than nak'd. A nak would not help: nats-server 2.9 takes the nak'd
          // message for this instance's pull request, finds its interest gone and leaves the message to the
          // ack wait.
          for await (const msg of messages) await deliver(partition, msg);
        } finally {
          stopped.signal.removeEventListener("abort", drain);
        }
      } catch (err) {
        if (stopped.signal.aborted) return;
        log.warn({ err, stream, durable }, "pulling failed; starting over");
        await sleep(1_000, undefined, { signal: stopped.signal }).catch(() => {}); // cut short by stop()
      }
    }
  }

  const loops = durables.map(pull);
  log.info({ durables: durables.map(({ stream, name }) => `${stream}/${name}`) }, "consuming");
  return {
    stats: () => counts.map((each) => ({ ...each })),
    async stop() {
      stopped.abort();
      await Promise.all(loops);
      // The last acks are written but maybe not sent: flush them, so a clean stop causes no redeliveries.
      if (!nc.isClosed()) await nc.flush().catch(() => {});
    },
  };
}

/**
 * Ends a standing pull without losing what the broker already sent. `messages.close()` unsubscribes at once, so
 * a message on its way then is dropped by the client: neither handled nor nak'd, it holds its partition until
 * the ack wait runs out. Draining the pull's subscription instead (UNSUB, then a round trip) still yields every
 * message that arrives before the broker's answer; the broker sends none after the UNSUB (a pull request
 * without interest gets nothing), and nats.js ends the iteration once the drain is done. The subscription is
 * not part of ConsumerMessages' API: without it (another nats.js), close() as before.
 */
function drainPull(messages: ConsumerMessages): void {
  const sub = (messages as { sub?: NatsSubscription }).sub;
  if (sub?.isDraining()) return; // already on its way out: the connection drains
  if (sub && !sub.isClosed()) sub.drain().catch(() => messages.close());
  else void messages.close();
}

/** The handlers of one channel's messages, by type name. */
type Handlers = ReadonlyMap<string, Subscription>;

/** A partition durable to pull from, and the handlers of its channel. */
interface Durable {
  readonly stream: string;
  readonly name: string;
  readonly handlers: Handlers;
  /** Its channel's counts, shared by the channel's partitions. */
  readonly counts: ChannelCounts;
}

/** One stream a service consumes, and its handlers by message type. */
interface Channel {
  readonly domain: string;
  readonly kind: ChannelKind;
  readonly handlers: Map<string, Subscription>;
}

/**
 * Groups subscriptions by the stream they come from: events and commands from their type's domain,
 * replies from the service's own reply channel (so its name must be a domain name).
 */
function channelsOf(service: string, subscriptions: readonly Subscription[]): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const subscription of subscriptions) {
    const { channel: kind, schema } = subscription;
    const domain = kind === "reply" ? service : domainOf(schema.typeName);
    const stream = streamName(domain, kind);
    const channel = channels.get(stream) ?? { domain, kind, handlers: new Map<string, Subscription>() };
    if (channel.handlers.has(schema.typeName))
      throw new Error(`${service} subscribes to ${schema.typeName} twice on ${stream}`);
    channel.handlers.set(schema.typeName, subscription);
    channels.set(stream, channel);
  }
  return channels;
}

/**
 * Creates (or updates) the durable through which all instances of `service` receive one partition of
 * one of a domain's channels. Adding a durable that exists with the same settings succeeds, so instances
 * starting together do not conflict; changed settings (a new ack wait) are applied.
 */
async function ensurePartitionDurable(
  jsm: JetStreamManager,
  options: {
    service: string;
    domain: string;
    kind: ChannelKind;
    partition: number;
    ackWaitMs: number;
    maxDeliver: number;
  },
): Promise<Omit<Durable, "handlers" | "counts">> {
  const { service, domain, kind, partition, ackWaitMs, maxDeliver } = options;
  const stream = streamName(domain, kind);
  const name = `${service}-p${partition}`;
  await jsm.consumers.add(stream, {
    durable_name: name,
    description: `${service} instances compete for partition ${partition} of ${stream}`,
    filter_subject: partitionFilter(domain, partition, kind),
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1, // one message of this partition in flight, across all instances
    deliver_policy: DeliverPolicy.All, // from the stream's start: a new service catches up on what it missed
    ack_wait: nanos(ackWaitMs),
    // startConsumers dead-letters after its maxDeliver attempts; this bound is for a message that even the
    // dead letters refuse, which is logged with its stream sequence and then left in its stream.
    max_deliver: maxDeliver,
  });
  return { stream, name };
}

/** Delay before redelivering a message whose handler threw: 200 ms, 400 ms, … at most 5 s. */
function retryDelay(deliveries: number): number {
  return Math.min(5_000, 200 * 2 ** (deliveries - 1));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
