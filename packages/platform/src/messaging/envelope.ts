// A message is a header and a body. The body is the data being sent: one protobuf message, in binary.
// The header is a set of name-value pairs the sender writes to describe it: which message this is (its
// id), what it is (its type, so the receiver can decode the body), which saga it belongs to (the
// correlation id, our order id) and which message caused it (the causation id). ftgo sends events (a
// notable change in the sender: `OrderCreated`), commands (a request to do something: `CreateTicket`)
// and replies (the answer to a command); the subject says which kind (`ftgo.kitchen.command.…`), the
// header says exactly which message. A command that expects a reply names the reply channel.
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";

/** The header names of an ftgo message. */
export const MessageHeader = {
  /** JetStream's publish de-duplication key. Equals the message id, except when a dead letter is replayed. */
  NatsMsgId: "Nats-Msg-Id",
  /** The message's identity: a UUID given when it is written to the outbox; the receiver's processed-messages key. */
  MessageId: "Ftgo-Message-Id",
  /** The body's full protobuf type name, e.g. `ftgo.order.v1.OrderCreated`: how the receiver decodes it. */
  Type: "Ftgo-Type",
  /** The order id. Every message of one saga carries it; it also picks the message's partition. */
  CorrelationId: "Ftgo-Correlation-Id",
  /** The id of the message whose handling produced this one; absent on the first message of a saga. */
  CausationId: "Ftgo-Causation-Id",
  /** On a command that expects an answer: the channel to send the reply to, e.g. `ftgo.order.reply`. */
  ReplyTo: "Ftgo-Reply-To",
  /** The id of the API request that started it all, for logs. */
  RequestId: "X-Request-Id",
  /** W3C trace context, when the sender knows one. */
  TraceParent: "traceparent",
  ContentType: "Content-Type",
} as const;

/** The body's encoding: protobuf binary (`toBinary`). */
export const PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

/** What a message's header says about it. */
export interface Envelope {
  readonly messageId: string;
  readonly type: string;
  readonly correlationId: string;
  readonly causationId?: string | undefined;
  /** On a command: where the receiver sends its reply. Absent on events, replies and one-way commands. */
  readonly replyTo?: string | undefined;
  readonly requestId?: string | undefined;
  readonly traceparent?: string | undefined;
}

/**
 * The message can never be handled, however often it is retried: a header is missing or the body does
 * not decode as its type. The consumer sends such a poison message to the dead letters at once.
 */
export class MalformedMessageError extends Error {
  override readonly name = "MalformedMessageError";
}

/**
 * The header of a message as a plain record, the form the outbox stores (JSON) and the relay sends.
 * `Nats-Msg-Id` is not part of it: the relay adds it when publishing (see {@link MessageHeader.NatsMsgId}).
 */
export function envelopeHeaders(envelope: Envelope): Record<string, string> {
  const record: Record<string, string> = {
    [MessageHeader.MessageId]: envelope.messageId,
    [MessageHeader.Type]: envelope.type,
    [MessageHeader.CorrelationId]: envelope.correlationId,
    [MessageHeader.ContentType]: PROTOBUF_CONTENT_TYPE,
  };
  if (envelope.causationId) record[MessageHeader.CausationId] = envelope.causationId;
  if (envelope.replyTo) record[MessageHeader.ReplyTo] = envelope.replyTo;
  if (envelope.requestId) record[MessageHeader.RequestId] = envelope.requestId;
  if (envelope.traceparent) record[MessageHeader.TraceParent] = envelope.traceparent;
  return record;
}

/**
 * Reads the envelope from a received message's header. Throws MalformedMessageError when a required
 * header is missing or the content type is not protobuf: such a message was not written by an outbox.
 */
export function readEnvelope(headers: MsgHdrs | undefined): Envelope {
  const read = (name: string) => (headers?.has(name) ? headers.get(name) : undefined) || undefined;
  const required = (name: string) => {
    const value = read(name);
    if (value === undefined) throw new MalformedMessageError(`missing header ${name}`);
    return value;
  };
  const contentType = required(MessageHeader.ContentType);
  if (contentType !== PROTOBUF_CONTENT_TYPE) {
    throw new MalformedMessageError(`unexpected ${MessageHeader.ContentType} ${contentType}`);
  }
  return {
    messageId: required(MessageHeader.MessageId),
    type: required(MessageHeader.Type),
    correlationId: required(MessageHeader.CorrelationId),
    causationId: read(MessageHeader.CausationId),
    replyTo: read(MessageHeader.ReplyTo),
    requestId: read(MessageHeader.RequestId),
    traceparent: read(MessageHeader.TraceParent),
  };
}

/** A header record as NATS headers, for publishing. */
export function toNatsHeaders(record: Readonly<Record<string, string>>): MsgHdrs {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(record)) headers.set(name, value);
  return headers;
}

/** The header of a message as NATS headers: for a message published directly, not through an outbox. */
export function messageHeaders(envelope: Envelope): MsgHdrs {
  return toNatsHeaders(envelopeHeaders(envelope));
}

/** NATS headers as a record (the first value of each name): to copy them onto another message. */
export function headerRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const name of headers?.keys() ?? []) record[name] = headers?.get(name) ?? "";
  return record;
}

/** The body: `message` as protobuf binary. */
export function encodeBody<T extends DescMessage>(schema: T, message: MessageInitShape<T>): Uint8Array {
  return toBinary(schema, create(schema, message));
}

/** Decodes a body as `schema`; throws MalformedMessageError (with the parser's error as cause) if it is not one. */
export function decodeBody<T extends DescMessage>(schema: T, body: Uint8Array): MessageShape<T> {
  try {
    return fromBinary(schema, body);
  } catch (err) {
    throw new MalformedMessageError(`body is not a valid ${schema.typeName}`, { cause: err });
  }
}
