// The messaging contract as an AsyncAPI 3.0 document: every channel a message travels on, its address
// (the NATS subject, with the partition as a parameter), the header every message carries, each message
// type's payload schema, and which service sends and which receive. What the RPC contract has in
// OpenAPI, the messages have here. The addresses, headers and partitions come from this package's own
// rules (channels.ts, envelope.ts), the payloads and descriptions from the protobuf descriptors
// (json-schema.ts, proto-comments.ts); who sends and receives is the caller's to say — it is read from
// the services (scripts/asyncapi.ts). So no part of the document is written by hand per message.
import type { DescMessage, JsonObject } from "@bufbuild/protobuf";
import type { SagaMode } from "../config.js";
import { domainOf, eventName, replyChannel, streamName } from "./channels.js";
import { MessageHeader, PROTOBUF_CONTENT_TYPE } from "./envelope.js";
import { createSchemaCollector, type JsonSchema } from "./json-schema.js";
import { leadingComment } from "./proto-comments.js";

/**
 * How a message travels. `event`, `command` and `reply` go through JetStream, partitioned by order id;
 * `request` is published on core NATS to every live responder, who answer with `response`.
 */
export type MessageKind = "event" | "command" | "reply" | "request";

/** A service sending or receiving a message, in the saga modes it does so (all when not said). */
export interface MessageParty {
  readonly service: string;
  readonly modes?: readonly SagaMode[] | undefined;
}

/** One message type on one channel, and who is at either end. */
export interface MessageFlow {
  readonly schema: DescMessage;
  readonly kind: MessageKind;
  readonly senders: readonly MessageParty[];
  readonly receivers: readonly MessageParty[];
  /** On a request: what each responder answers with, on the reply subject the request names. */
  readonly response?: DescMessage | undefined;
}

export interface AsyncApiOptions {
  readonly flows: readonly MessageFlow[];
  /** The partitions of every JetStream channel (FTGO_PARTITIONS). */
  readonly partitions: number;
  readonly version: string;
  /** The NATS server of `make up`. */
  readonly server: string;
}

const SCHEMAS = "#/components/schemas/";

/** Builds the AsyncAPI 3.0 document of `flows`. Deterministic: the same flows give the same document. */
export function buildAsyncApi({ flows, partitions, version, server }: AsyncApiOptions): JsonObject {
  const collector = createSchemaCollector(SCHEMAS);
  const channels: Record<string, JsonObject> = {};
  const messages: Record<string, JsonObject> = {};
  const operations: Record<string, JsonObject> = {};
  const sorted = [...flows].sort((a, b) => channelId(a).localeCompare(channelId(b)));
  for (const flow of sorted) {
    const id = channelId(flow);
    messages[flow.schema.typeName] = messageObject(flow.schema, flow.kind, collector.ref(flow.schema));
    channels[id] = channelObject(flow, partitions);
    const response = flow.response && responseChannel(flow, flow.response);
    if (flow.response && response) {
      messages[flow.response.typeName] = messageObject(flow.response, "response", collector.ref(flow.response));
      channels[response.id] = response.channel;
    }
    for (const [action, parties] of [
      ["send", flow.senders],
      ["receive", flow.receivers],
    ] as const) {
      for (const party of parties) {
        operations[`${party.service}.${action}.${id}`] = operationObject(
          flow,
          id,
          action,
          party,
          partitions,
          response?.id,
        );
      }
    }
  }
  return {
    asyncapi: "3.0.0",
    info: {
      title: "FTGO messaging",
      version,
      description: INFO,
    },
    defaultContentType: PROTOBUF_CONTENT_TYPE,
    servers: {
      nats: { host: server, protocol: "nats", description: "NATS_URL: JetStream for events, commands and replies" },
    },
    channels,
    operations: Object.fromEntries(Object.entries(operations).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: collector.schemas(),
      messages: Object.fromEntries(Object.entries(messages).sort(([a], [b]) => a.localeCompare(b))),
      parameters: {
        partition: {
          description: partitionRule(partitions),
          enum: Array.from({ length: partitions }, (_, k) => String(k)),
        },
      },
    },
  };
}

const INFO = [
  "Every message of ftgo-mesh: events (publish-subscribe), commands and replies (point-to-point), each a",
  "JetStream stream per domain and kind, written through the sender's transactional outbox and consumed",
  "idempotently through the receiver's inbox; and the courier quote request, published on core NATS to",
  "every courier that is up.",
  "",
  `Bodies are protobuf binary (\`${PROTOBUF_CONTENT_TYPE}\`). Each payload schema describes the same message in`,
  "its protobuf JSON form (the proto3 JSON mapping: 64-bit integers as strings, enums by name, Timestamps",
  "as RFC 3339 strings), with the limits its contract declares; the header `Ftgo-Type` names the protobuf",
  "type to decode the body with. Generated from proto/ and the services by `npm run asyncapi`.",
].join("\n");

/** `order.event.order_created`: unique, stable, and the address without its root and partition. */
function channelId(flow: MessageFlow): string {
  return channelBase(flow).replace(/^ftgo\./, "");
}

/** The address of the channel, less its partition token. */
function channelBase({ schema, kind, receivers }: MessageFlow): string {
  if (kind === "reply") {
    // A reply goes to the reply channel of whoever sent the command: the one receiving it.
    const owner = receivers[0]?.service;
    if (!owner) throw new Error(`reply ${schema.typeName} has no receiver, so no reply channel`);
    return `${replyChannel(owner)}.${eventName(schema)}`;
  }
  return `ftgo.${domainOf(schema.typeName)}.${kind}.${eventName(schema)}`;
}

function channelObject(flow: MessageFlow, partitions: number): JsonObject {
  const base = channelBase(flow);
  const partitioned = flow.kind !== "request";
  return {
    address: partitioned ? `${base}.{partition}` : base,
    title: flow.schema.name,
    ...(leadingComment(flow.schema) ? { description: leadingComment(flow.schema) } : {}),
    messages: { [flow.schema.name]: { $ref: `#/components/messages/${flow.schema.typeName}` } },
    ...(partitioned ? { parameters: { partition: { $ref: "#/components/parameters/partition" } } } : {}),
    "x-ftgo-kind": flow.kind,
    ...(partitioned
      ? { "x-ftgo-stream": streamName(base.split(".")[1] ?? "", flow.kind as "event"), "x-ftgo-partitions": partitions }
      : {}),
  };
}

/** The reply subject of a request: named by each request, so the channel has no fixed address. */
function responseChannel(flow: MessageFlow, response: DescMessage): { id: string; channel: JsonObject } {
  return {
    id: `${channelId(flow)}.response`,
    channel: {
      address: null,
      title: response.name,
      description: `The reply subject a ${flow.schema.name} names (the requester's NATS reply inbox).`,
      messages: { [response.name]: { $ref: `#/components/messages/${response.typeName}` } },
      "x-ftgo-kind": "response",
    },
  } as { id: string; channel: JsonObject };
}

function operationObject(
  flow: MessageFlow,
  id: string,
  action: "send" | "receive",
  party: MessageParty,
  partitions: number,
  responseId: string | undefined,
): JsonObject {
  const name = flow.schema.name;
  const modes = party.modes ?? [];
  const reply: JsonObject =
    flow.response && responseId
      ? {
          reply: {
            channel: { $ref: `#/channels/${responseId}` },
            messages: [{ $ref: `#/channels/${responseId}/messages/${flow.response.name}` }],
          },
        }
      : {};
  return {
    action,
    channel: { $ref: `#/channels/${id}` },
    messages: [{ $ref: `#/channels/${id}/messages/${name}` }],
    title: `${party.service} ${action === "send" ? "sends" : "receives"} ${name}`,
    description: delivery(flow, action, party.service, partitions),
    tags: [{ name: party.service }, { name: flow.kind }, ...modes.map((mode) => ({ name: mode }))],
    ...reply,
    "x-ftgo-service": party.service,
    ...(modes.length > 0 ? { "x-ftgo-saga-modes": [...modes] } : {}),
  };
}

/** How the message gets there, from the rules of outbox.ts, relay.ts and consumer.ts. */
function delivery(flow: MessageFlow, action: "send" | "receive", service: string, partitions: number): string {
  if (flow.kind === "request") {
    return action === "send"
      ? "Published on core NATS with a reply subject; the answers that arrive within a bounded window are gathered."
      : "A plain subscription (no queue group): every instance that is up receives it and answers on the reply subject.";
  }
  if (action === "send") {
    return "Appended to the outbox in the transaction that makes the change; the relay publishes it with Nats-Msg-Id = Ftgo-Message-Id.";
  }
  const last = partitions - 1;
  return (
    `Read through the durable consumers ${service}-p0…${service}-p${last}, one per partition: instances of ` +
    `${service} compete, one message of a partition at a time; handled once (inbox), in the transaction that writes what follows.`
  );
}

function partitionRule(partitions: number): string {
  return (
    `The partition of the message's order: FNV-1a 32-bit hash of the UTF-8 bytes of ${MessageHeader.CorrelationId} ` +
    `(the order id), modulo ${partitions} (FTGO_PARTITIONS). Every message of one order shares one partition, the ` +
    "unit in which competing receivers keep order."
  );
}

/** A message component: its type, its header and its payload schema. */
function messageObject(schema: DescMessage, kind: MessageKind | "response", payload: JsonSchema): JsonObject {
  return {
    name: schema.name,
    title: schema.name,
    ...(leadingComment(schema) ? { summary: firstSentence(leadingComment(schema) ?? "") } : {}),
    ...(leadingComment(schema) ? { description: leadingComment(schema) } : {}),
    contentType: PROTOBUF_CONTENT_TYPE,
    headers: headersSchema(schema, kind),
    payload,
    correlationId: {
      description: "The order id: every message of one saga carries it.",
      location: `$message.header#/${MessageHeader.CorrelationId}`,
    },
    tags: [{ name: kind }],
    "x-protobuf-type": schema.typeName,
    "x-protobuf-file": schema.file.proto.name,
  };
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  const end = flat.search(/\.(\s|$)/);
  return end === -1 ? flat : flat.slice(0, end + 1);
}

/** What each header says, for every message that carries it (see envelope.ts). */
const HEADER_MEANING: Readonly<Record<keyof typeof MessageHeader, string>> = {
  NatsMsgId: "JetStream's publish de-duplication key: the message id, except on a replayed dead letter.",
  MessageId: "The message's identity (a UUID), given when it is written; the receiver's processed-messages key.",
  Type: "The body's full protobuf type name: how the receiver decodes it.",
  CorrelationId: "The order id. Every message of one saga carries it; it also picks the partition.",
  CausationId: "The id of the message whose handling produced this one; absent on the first message of a saga.",
  ReplyTo: "On a command that wants an answer: the reply channel, e.g. ftgo.order.reply.",
  RequestId: "The id of the API request that started it all, for logs.",
  TraceParent: "W3C trace context, when the sender knows one.",
  ContentType: `Always ${PROTOBUF_CONTENT_TYPE}.`,
};

/** The headers a message of this kind carries; those readEnvelope requires are required. */
function headersSchema(schema: DescMessage, kind: MessageKind | "response"): JsonSchema {
  // Core NATS (a request and its responses) has no JetStream, so no de-duplication key.
  const jetstream = kind !== "request" && kind !== "response";
  const names: (keyof typeof MessageHeader)[] = [
    ...(jetstream ? (["NatsMsgId"] as const) : []),
    "MessageId",
    "Type",
    "CorrelationId",
    "CausationId",
    ...(kind === "command" ? (["ReplyTo"] as const) : []),
    "RequestId",
    "TraceParent",
    "ContentType",
  ];
  const required = new Set<keyof typeof MessageHeader>(["MessageId", "Type", "CorrelationId", "ContentType"]);
  if (jetstream) required.add("NatsMsgId");
  const property = (key: keyof typeof MessageHeader): JsonSchema => {
    const fixed: JsonSchema =
      key === "Type" ? { const: schema.typeName } : key === "ContentType" ? { const: PROTOBUF_CONTENT_TYPE } : {};
    const format: JsonSchema = key === "MessageId" ? { format: "uuid" } : {};
    return { type: "string", description: HEADER_MEANING[key], ...format, ...fixed };
  };
  return {
    type: "object",
    properties: Object.fromEntries(names.map((key) => [MessageHeader[key], property(key)])),
    required: names.filter((key) => required.has(key)).map((key) => MessageHeader[key]),
  };
}
