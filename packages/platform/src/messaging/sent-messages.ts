// What a service sent for one saga, read from its own outbox. The outbox is the record of every message
// the service decided to send, written in the transaction of the change it tells, so it answers "what did
// this service say about order X, and why" better than any log: each row keeps its causation id (the
// message whose handling sent it). Not for ever: the relay deletes a row an hour after publishing it.
import type { Database } from "../db.js";
import { MessageHeader } from "./envelope.js";
import { createOutboxTable } from "./outbox.js";

/** One message a service sent, as its outbox row says. */
export interface SentMessageRecord {
  readonly messageId: string;
  /** The message whose handling sent it; undefined when a request to the service did. */
  readonly causationId: string | undefined;
  readonly subject: string;
  readonly type: string;
  /** When the row was written, in milliseconds since the epoch. */
  readonly createdAt: number;
  /** Where a command's reply goes; undefined for anything else. */
  readonly replyTo: string | undefined;
  readonly published: boolean;
}

/** Rows one listing returns at most: a saga sends a handful; a thousand means something else is wrong. */
export const MAX_SENT_MESSAGES = 1_000;

interface SentRow {
  readonly message_id: string;
  readonly causation_id: string | null;
  readonly subject: string;
  readonly type: string;
  readonly created_at: number;
  readonly headers: string;
  readonly published_at: number | null;
}

/**
 * Reads the outbox of `db` (created if missing): the messages with one correlation id, oldest first
 * (by `seq`, the order of commit and of publishing), at most MAX_SENT_MESSAGES. What `npm run trace`
 * reads from the database files, from inside the service that owns them.
 */
export function createSentMessagesReader(db: Database): (correlationId: string) => SentMessageRecord[] {
  createOutboxTable(db);
  const select = db.prepare<[string, number], SentRow>(
    `SELECT message_id, causation_id, subject, type, created_at, headers, published_at
     FROM outbox WHERE correlation_id = ? ORDER BY seq LIMIT ?`,
  );
  return (correlationId) =>
    select.all(correlationId, MAX_SENT_MESSAGES).map((row) => ({
      messageId: row.message_id,
      causationId: row.causation_id ?? undefined,
      subject: row.subject,
      type: row.type,
      createdAt: row.created_at,
      replyTo: (JSON.parse(row.headers) as Record<string, string>)[MessageHeader.ReplyTo],
      published: row.published_at !== null,
    }));
}
