// Who may publish and subscribe to what on the broker, in the secure mode (SECURE=1, docs/security.md). Each
// process connects with its own certificate, which nats-server maps to the NATS user `<name>@ftgo.mesh`
// (broker-config.ts); this table is each user's permissions, least privilege, derived from what the code does:
//
//   a domain's events        ftgo.<d>.event.>            published only by <d>'s service
//   its commands             ftgo.<d>.command.>          only by their senders (Order → Kitchen, Accounting,
//                                                        Consumer; Kitchen → Delivery)
//   replies                  ftgo.<sender>.reply.<n>.*   only by the service whose events.proto declares <n>
//   requests                 ftgo.<d>.request.>          only by <d>'s service (Delivery's courier quotes)
//   dead letters             ftgo.deadletter.<service>   only by that service; read by any service (its admin
//                                                        desk), replayed only by the operator
//   registry keys            $KV.ftgo_registry.<s>.*     only by service <s>
//   JetStream API            the streams each creates or reads, the durables `<service>-p<k>` it pulls, acks
//                            of those; the registry's stream read-only (direct gets, watches)
//   courier quote answers    only couriers: they alone may subscribe to the requests, and answer through
//                            allow_responses on the request's reply subject
//   replies to itself        its own inboxes `_INBOX_<name>.>` only (brokerInboxPrefix), not another's
//
// The operator (admin: the ftgo CLI, scripts/dead-letters.ts, trace, kitchen display) may do anything. A learner's
// certificate (OU=learner) has no user: the broker refuses it.
import type { DescFile } from "@bufbuild/protobuf";
import { file_ftgo_accounting_v1_events } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { file_ftgo_consumer_v1_events } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { file_ftgo_delivery_v1_events } from "@ftgo/gen/ftgo/delivery/v1/events_pb.js";
import { file_ftgo_kitchen_v1_events } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { file_ftgo_loyalty_v1_events } from "@ftgo/gen/ftgo/loyalty/v1/events_pb.js";
import { file_ftgo_order_v1_events } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { REGISTRY_BUCKET } from "../discovery/nats-kv.js";
import { type ChannelKind, DEFAULT_PARTITIONS, eventName, streamName } from "./channels.js";
import { DEAD_LETTER_STREAM } from "./dead-letters.js";

/** A NATS user's permissions, in nats-server's terms. */
export interface BrokerPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** May publish once to the reply subject of each request it received (a courier's quote). */
  readonly allowResponses: boolean;
}

/** One NATS user: the identity (certificate CN) it belongs to, the user name nats-server maps the certificate to. */
export interface BrokerUser {
  readonly identity: string;
  readonly user: string;
  readonly permissions: BrokerPermissions;
}

/** What one saga participant does on the broker: the facts its permissions follow from. */
interface ServiceAccess {
  /** Domains whose events it consumes through JetStream durables. */
  readonly consumesEvents: readonly string[];
  /** Consumes the commands sent to it (it owns a command channel). */
  readonly consumesCommands?: boolean;
  /** Consumes the replies to the commands it sends (it owns a reply channel). */
  readonly consumesReplies?: boolean;
  /** Domains it sends commands to. */
  readonly sendsCommandsTo?: readonly string[];
  /** Owners of the reply channels it answers commands on. */
  readonly repliesTo?: readonly string[];
  /** Publishes requests (core NATS) on its own request channels and gathers the answers. */
  readonly requests?: boolean;
  /** Publishes its own instances in the registry. */
  readonly registers: boolean;
}

/** The mesh's services, from their saga.ts subscriptions, their outboxes and the Go loyalty service. */
const SERVICES: Readonly<Record<string, ServiceAccess>> = {
  order: {
    consumesEvents: ["consumer", "kitchen", "accounting"],
    consumesReplies: true, // when it orchestrates
    sendsCommandsTo: ["kitchen", "accounting", "consumer"],
    registers: true,
  },
  consumer: { consumesEvents: ["order"], consumesCommands: true, repliesTo: ["order"], registers: true },
  kitchen: {
    consumesEvents: ["order", "consumer", "accounting"],
    consumesCommands: true,
    sendsCommandsTo: ["delivery"],
    repliesTo: ["order"],
    registers: true,
  },
  accounting: {
    consumesEvents: ["order", "consumer", "kitchen"],
    consumesCommands: true,
    repliesTo: ["order"],
    registers: true,
  },
  delivery: { consumesEvents: [], consumesCommands: true, requests: true, registers: true },
  loyalty: { consumesEvents: ["order"], registers: true },
};

/** The event types each domain declares (its events.proto): the only replies its service may send. */
const EVENT_FILES: Readonly<Record<string, DescFile>> = {
  order: file_ftgo_order_v1_events,
  consumer: file_ftgo_consumer_v1_events,
  kitchen: file_ftgo_kitchen_v1_events,
  accounting: file_ftgo_accounting_v1_events,
  delivery: file_ftgo_delivery_v1_events,
  loyalty: file_ftgo_loyalty_v1_events,
};

/** The domains whose events the gateway watches (core NATS) to drop cached order views: services/gateway/src/cache.ts. */
const GATEWAY_WATCHES = ["order", "kitchen", "accounting", "delivery", "loyalty"];

/** Couriers' identities as scripts/pki.sh issues them. */
export const COURIER_IDENTITIES = ["courier-1", "courier-2", "courier-3"] as const;

/**
 * The prefix of a mesh identity's reply inboxes in the secure mode, `_INBOX_<name>`: connectNats sets it, and each
 * user may subscribe to its own inboxes only, so no identity reads the answers (JetStream API replies, pulled
 * messages, a courier's quotes) meant for another.
 */
export function brokerInboxPrefix(identity: string): string {
  return `_INBOX_${identity}`;
}

/** The NATS user a mesh certificate maps to: its e-mail SAN, `<name>@ftgo.mesh` (scripts/pki.sh). */
export function brokerUserName(identity: string): string {
  return `${identity}@ftgo.mesh`;
}

const REGISTRY_STREAM = `KV_${REGISTRY_BUCKET}`;

/** Reading the registry: its stream's info, direct and stream gets, and watches (ordered push consumers). */
function registryReader(): string[] {
  return [
    `$JS.API.STREAM.CREATE.${REGISTRY_STREAM}`, // whoever starts first creates the bucket
    `$JS.API.STREAM.INFO.${REGISTRY_STREAM}`,
    `$JS.API.STREAM.MSG.GET.${REGISTRY_STREAM}`,
    `$JS.API.DIRECT.GET.${REGISTRY_STREAM}`,
    `$JS.API.DIRECT.GET.${REGISTRY_STREAM}.>`,
    `$JS.API.CONSUMER.CREATE.${REGISTRY_STREAM}`,
    `$JS.API.CONSUMER.CREATE.${REGISTRY_STREAM}.>`,
    `$JS.API.CONSUMER.INFO.${REGISTRY_STREAM}.*`,
    `$JS.API.CONSUMER.DELETE.${REGISTRY_STREAM}.*`,
    `$JS.FC.${REGISTRY_STREAM}.>`, // a watch's flow-control answers
  ];
}

/** Pulling through the durables `<service>-p<k>` on `stream`: create, look up, pull, acknowledge. */
function durableAccess(stream: string, service: string, partitions: number): string[] {
  return Array.from({ length: partitions }, (_, k) => `${service}-p${k}`).flatMap((durable) => [
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`, // 2.9's create with the filter subject in it
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ]);
}

/** The permissions of one saga participant, from what it does (SERVICES). */
function servicePermissions(service: string, access: ServiceAccess, partitions: number): BrokerPermissions {
  const consumed: [string, ChannelKind][] = [
    ...access.consumesEvents.map((domain): [string, ChannelKind] => [domain, "event"]),
    ...(access.consumesCommands ? [[service, "command"] as [string, ChannelKind]] : []),
    ...(access.consumesReplies ? [[service, "reply"] as [string, ChannelKind]] : []),
  ];
  const consumedStreams = consumed.map(([domain, kind]) => streamName(domain, kind));
  const sentTo = [
    streamName(service, "event"),
    ...(access.sendsCommandsTo ?? []).map((domain) => streamName(domain, "command")),
    ...(access.repliesTo ?? []).map((owner) => streamName(owner, "reply")),
  ];
  // Streams it creates if missing (publishers and consumers both ensure theirs), and those it may change: its own.
  const touched = [...new Set([...sentTo, ...consumedStreams, DEAD_LETTER_STREAM])];
  const owned = [
    streamName(service, "event"),
    ...consumed.filter(([d]) => d === service).map(([d, k]) => streamName(d, k)),
  ];
  const replyNames = (EVENT_FILES[service]?.messages ?? []).map(eventName);
  const publish = [
    `ftgo.${service}.event.>`,
    ...(access.sendsCommandsTo ?? []).map((domain) => `ftgo.${domain}.command.>`),
    ...(access.repliesTo ?? []).flatMap((owner) => replyNames.map((name) => `ftgo.${owner}.reply.${name}.*`)),
    ...(access.requests ? [`ftgo.${service}.request.>`] : []),
    `ftgo.deadletter.${service}`,
    // Its AdminService lists its dead letters (the dashboard): direct gets, which cannot be narrowed to its own
    // subject, so it may read every service's. Replaying is the operator's: it publishes to the original subject.
    `$JS.API.DIRECT.GET.${DEAD_LETTER_STREAM}`,
    ...(access.registers ? [`$KV.${REGISTRY_BUCKET}.${service}.*`] : []),
    "$JS.API.INFO",
    ...touched.flatMap((stream) => [`$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.INFO.${stream}`]),
    ...owned.map((stream) => `$JS.API.STREAM.UPDATE.${stream}`),
    ...consumedStreams.flatMap((stream) => durableAccess(stream, service, partitions)),
    ...registryReader(),
  ];
  return { publish: [...new Set(publish)], subscribe: inboxes(service), allowResponses: false };
}

/**
 * The reply inboxes `identity` may subscribe to: its own only. Every client of the secure mode sets the prefix:
 * connectNats, Delivery's quote inbox (from its connection's prefix), Loyalty's Go client (go/internal/app).
 */
function inboxes(identity: string): string[] {
  return [`${brokerInboxPrefix(identity)}.>`];
}

/** Options of {@link brokerUsers}. */
export interface BrokerUsersOptions {
  /** How many partitions each channel has (FTGO_PARTITIONS): one durable per partition. Default 4. */
  readonly partitions?: number;
}

/**
 * Every NATS user of the secure mode and its permissions: one per saga participant (order, consumer, kitchen,
 * accounting, delivery, loyalty), the gateway (reads the registry, watches domain events), each courier (answers
 * quote requests, nothing else) and the operator (admin: everything). Mesh identities not listed here (a
 * learner's, the broker's own) have no user, so the broker refuses their certificates.
 */
export function brokerUsers({ partitions = DEFAULT_PARTITIONS }: BrokerUsersOptions = {}): BrokerUser[] {
  const user = (identity: string, permissions: BrokerPermissions): BrokerUser => ({
    identity,
    user: brokerUserName(identity),
    permissions,
  });
  return [
    ...Object.entries(SERVICES).map(([service, access]) =>
      user(service, servicePermissions(service, access, partitions)),
    ),
    user("gateway", {
      publish: ["$JS.API.INFO", ...registryReader()],
      subscribe: [...inboxes("gateway"), ...GATEWAY_WATCHES.map((domain) => `ftgo.${domain}.event.>`)],
      allowResponses: false,
    }),
    ...COURIER_IDENTITIES.map((courier) =>
      user(courier, { publish: [], subscribe: ["ftgo.delivery.request.>"], allowResponses: true }),
    ),
    user("admin", { publish: [">"], subscribe: [">"], allowResponses: true }),
  ];
}
