// Handling duplicate messages. JetStream delivers at least once: a message is redelivered when its ack
// is lost, when a receiver crashes before acking, or when the relay publishes a row twice. An
// idempotent consumer makes the second delivery harmless: it records each handled message's id in
// `processed_messages`, in the same local transaction as the handler's changes and the events the
// handler appends to the outbox. Either all of that commits, or none of it; a message whose id is
// already recorded is acknowledged and otherwise ignored.
import type { Database } from "../db.js";
import type { MessageContext } from "./subscriptions.js";

export interface Inbox {
  /**
   * Runs `handle` once per message id, inside one transaction with recording the id. Returns false,
   * without running it, for a message handled before. A handler that throws rolls everything back.
   */
  handleOnce(ctx: MessageContext, handle: () => void): boolean;
}

/**
 * The idempotent-consumer side of a service's database: creates `processed_messages` if needed. Rows
 * must outlive every redelivery of their message, so they are kept at least as long as the streams
 * keep events (seven days); this version never deletes them.
 */
export function createInbox(db: Database): Inbox {
  db.exec(`
    CREATE TABLE IF NOT EXISTS processed_messages (
      message_id   TEXT PRIMARY KEY,
      type         TEXT NOT NULL,
      processed_at INTEGER NOT NULL
    )
  `);
  const remember = db.prepare<[string, string, number]>(
    "INSERT INTO processed_messages (message_id, type, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const once = db.transaction((ctx: MessageContext, handle: () => void): boolean => {
    if (remember.run(ctx.messageId, ctx.type, Date.now()).changes === 0) return false; // a duplicate
    handle();
    return true;
  });
  return {
    // IMMEDIATE takes the write lock up front: two instances sharing one file then queue for it
    // (busy_timeout) instead of failing when a read transaction tries to become a write one.
    handleOnce: (ctx, handle) => once.immediate(ctx, handle),
  };
}
