// Subscriptions: what a service consumes, and what its handlers see of each message. A service lists its
// subscriptions in its saga.ts (`on` an event, `onCommand`, `onReply`); the consumer (consumer.ts) reads
// each from its channel and runs the handler in the inbox's transaction (inbox.ts), where the handler's
// MessageContext appends the messages that follow to the outbox, correlated to and caused by this one.
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { ChannelKind } from "./channels.js";
import type { Envelope } from "./envelope.js";
import type { Outbox } from "./outbox.js";

/** What a handler knows about the message it handles, and how it sends the messages that follow from it. */
export interface MessageContext {
  readonly messageId: string;
  /** The full protobuf type name, `ftgo.order.v1.OrderCreated`. */
  readonly type: string;
  /** The order id. */
  readonly correlationId: string;
  readonly causationId: string | undefined;
  /** On a command that expects an answer: the reply channel. */
  readonly replyTo: string | undefined;
  readonly requestId: string | undefined;
  readonly traceparent: string | undefined;
  readonly subject: string;
  /** 1 on the first delivery; more when earlier attempts failed or were never acknowledged. */
  readonly deliveryCount: number;
  /** Appends an event to the outbox in the same transaction, correlated to this message and caused by it. */
  publish<T extends DescMessage>(schema: T, message: MessageInitShape<T>): string;
  /** Appends a command for its receiver's channel, likewise; `replyTo` asks for an answer there. */
  send<T extends DescMessage>(schema: T, message: MessageInitShape<T>, options?: { replyTo?: string }): string;
  /**
   * Appends the answer to this command for the reply channel it named, likewise. Throws
   * NoReplyChannelError when the message is not a command that asked for one.
   */
  reply<T extends DescMessage>(schema: T, message: MessageInitShape<T>): string;
}

/** A handler called `ctx.reply` for a message that named no reply channel: an event, or a one-way command. */
export class NoReplyChannelError extends Error {
  override readonly name = "NoReplyChannelError";
}

/** Handles one message. Synchronous: it runs inside the database transaction that records the message. */
export type MessageHandler<T extends DescMessage> = (message: MessageShape<T>, ctx: MessageContext) => void;

/** A message type a service consumes, from which kind of channel, and what it does with it. */
export interface Subscription {
  readonly schema: DescMessage;
  /**
   * Where it comes from: `event`, the type's domain's publish-subscribe channel; `command`, the type's
   * domain's command channel (the receiver owns it); `reply`, the consuming service's reply channel.
   */
  readonly channel: ChannelKind;
  readonly handle: MessageHandler<DescMessage>;
}

/**
 * Subscribes `handler` to events of type `schema`: `on(OrderCreatedSchema, (event, ctx) => …)`. The
 * handler changes the service's tables and appends what follows to the outbox via `ctx.publish`; the
 * consumer runs it in one transaction with the processed-messages record.
 */
export function on<T extends DescMessage>(schema: T, handler: MessageHandler<T>): Subscription {
  return subscription("event", schema, handler);
}

/**
 * Subscribes `handler` to commands of type `schema`, sent to this service's command channel:
 * `onCommand(CreateTicketSchema, (command, ctx) => …)`. It answers with `ctx.reply` when the command
 * named a reply channel, in the same transaction.
 */
export function onCommand<T extends DescMessage>(schema: T, handler: MessageHandler<T>): Subscription {
  return subscription("command", schema, handler);
}

/**
 * Subscribes `handler` to replies of type `schema` on this service's reply channel: the answers to the
 * commands it sent with `replyTo: replyChannel(<this service>)`. `ctx.correlationId` and
 * `ctx.causationId` (the command's message id) say which request it answers.
 */
export function onReply<T extends DescMessage>(schema: T, handler: MessageHandler<T>): Subscription {
  return subscription("reply", schema, handler);
}

function subscription<T extends DescMessage>(channel: ChannelKind, schema: T, handler: MessageHandler<T>) {
  // The consumer decodes each body with this `schema` before calling `handle`, hence the cast.
  return {
    schema,
    channel,
    handle: (message: MessageShape<DescMessage>, ctx: MessageContext) => handler(message as MessageShape<T>, ctx),
  };
}

/**
 * A participant's store is written once, publishing its outcome as an event (choreography). Handling a
 * command, the same outcome is the answer to whoever asked (orchestration): this context's `publish`
 * replies instead.
 */
export function replyingContext(ctx: MessageContext): MessageContext {
  return { ...ctx, publish: (schema, message) => ctx.reply(schema, message) };
}

/** Builds the context of a received message; its `publish`, `send` and `reply` append through `outbox`. */
export function createMessageContext(
  envelope: Envelope,
  delivery: { subject: string; deliveryCount: number },
  outbox: Outbox,
): MessageContext {
  const { messageId, type, correlationId, causationId, replyTo, requestId, traceparent } = envelope;
  const caused = { correlationId, causationId: messageId, requestId, traceparent };
  return {
    messageId,
    type,
    correlationId,
    causationId,
    replyTo,
    requestId,
    traceparent,
    subject: delivery.subject,
    deliveryCount: delivery.deliveryCount,
    publish: (schema, message) => outbox.append(schema, message, caused),
    send: (schema, message, options) => outbox.send(schema, message, { ...caused, replyTo: options?.replyTo }),
    reply(schema, message) {
      if (!replyTo)
        throw new NoReplyChannelError(`${type} ${messageId} asked for no reply; cannot send ${schema.typeName}`);
      return outbox.reply(replyTo, schema, message, caused);
    },
  };
}
