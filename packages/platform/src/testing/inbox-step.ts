// A saga step called the way the inbox calls it, without NATS: for a participant's unit tests, which prove a
// step's rule on the service's real database while the transport is proven elsewhere.
import { randomUUID } from "node:crypto";
import type { Database } from "../db.js";
import type { Outbox } from "../messaging/outbox.js";
import type { MessageContext } from "../messaging/subscriptions.js";

/** What a step needs of a service's store: its database and its outbox. */
export interface StepStore {
  readonly db: Database;
  readonly outbox: Outbox;
}

/**
 * The context the inbox gives a handler for an event of `orderId`'s saga: a fresh message id, and `publish`
 * and `send` appending to the real outbox, correlated to the order and caused by this message.
 */
export function eventContext(outbox: Outbox, orderId: string): MessageContext {
  const messageId = randomUUID();
  const meta = { correlationId: orderId, causationId: messageId };
  return {
    messageId,
    type: "",
    correlationId: orderId,
    causationId: undefined,
    replyTo: undefined,
    requestId: undefined,
    traceparent: undefined,
    subject: "",
    deliveryCount: 1,
    publish: (schema, message) => outbox.append(schema, message, meta),
    send: (schema, message) => outbox.send(schema, message, meta),
    reply: () => {
      throw new Error("an event asks for no reply");
    },
  };
}

/** Runs `step` for one received event of `orderId`'s saga in a transaction of its own, as the inbox does. */
export function handleEvent<T>(store: StepStore, orderId: string, step: (ctx: MessageContext) => T): T {
  return store.db.transaction(() => step(eventContext(store.outbox, orderId)))();
}
