// Parked outbox rows. The relay publishes strictly in order, so a row the broker refuses for good (too
// big for its max_payload, a subject that is not a channel) would hold up every row behind it, in
// every partition, across restarts. Such a row is parked instead: moved, in one transaction, from
// `outbox` to `outbox_parked` with the reason, and the relay goes on with the next. Its order's saga
// is stuck where that message should have taken it: the table is indexed by correlation id (the order
// id) so a person can find what to fix, and `npm run dead-letters -- parked` lists them.
import { type Database, hasTable } from "../db.js";

/** A parked row, as `listParkedRows` shows it. */
export interface ParkedRow {
  readonly seq: number;
  readonly messageId: string;
  readonly subject: string;
  readonly type: string;
  /** The order whose saga waits for a person. */
  readonly correlationId: string;
  /** Header and body together, as they would have gone on the wire. */
  readonly bytes: number;
  readonly reason: string;
  readonly parkedAt: Date;
}

/**
 * A publish that will fail the same way every time, whatever the relay does: the row is parked. Outages
 * (NATS away, a timeout, a missing stream) are not permanent: the relay retries those, in order.
 */
export class PermanentPublishError extends Error {
  override readonly name = "PermanentPublishError";
}

/**
 * Whether a publish error is one the broker or client will repeat for ever. The NATS client checks
 * size, subject and headers before sending and throws its InvalidArgumentError ("max_payload size
 * exceeded", "invalid subject"); nothing on the network changes that answer.
 */
export function isPermanentPublishError(err: unknown): boolean {
  return err instanceof PermanentPublishError || (err instanceof Error && err.name === "InvalidArgumentError");
}

/** Creates the parked rows' table: the outbox's columns, plus why and when. */
export function createParkedTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox_parked (
      seq            INTEGER PRIMARY KEY,
      message_id     TEXT NOT NULL UNIQUE,
      subject        TEXT NOT NULL,
      type           TEXT NOT NULL,
      correlation_id TEXT NOT NULL,
      causation_id   TEXT,
      request_id     TEXT,
      headers        TEXT NOT NULL,
      payload        BLOB NOT NULL,
      created_at     INTEGER NOT NULL,
      reason         TEXT NOT NULL,
      parked_at      INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS outbox_parked_by_order ON outbox_parked (correlation_id);
  `);
}

/** Moves outbox row `seq` to the parked rows with `reason`, in one transaction. Returns the parked count. */
export function parker(db: Database): { park(seq: number, reason: string): void; count(): number } {
  createParkedTable(db);
  const copy = db.prepare<[string, number, number]>(
    `INSERT INTO outbox_parked
       SELECT seq, message_id, subject, type, correlation_id, causation_id, request_id, headers, payload, created_at, ?, ?
       FROM outbox WHERE seq = ?
     ON CONFLICT DO NOTHING`,
  );
  const remove = db.prepare<[number]>("DELETE FROM outbox WHERE seq = ?");
  const count = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM outbox_parked");
  return {
    park: db.transaction((seq: number, reason: string) => {
      copy.run(reason, Date.now(), seq);
      remove.run(seq);
    }),
    count: () => count.get()?.n ?? 0,
  };
}

/** The parked rows of a service's database, oldest first; none if it never parked one. */
export function listParkedRows(db: Database): ParkedRow[] {
  const exists = hasTable(db, "outbox_parked");
  if (!exists) return [];
  const rows = db
    .prepare(
      `SELECT seq, message_id, subject, type, correlation_id, length(headers) + length(payload) AS bytes, reason, parked_at
       FROM outbox_parked ORDER BY seq`,
    )
    .all() as {
    seq: number;
    message_id: string;
    subject: string;
    type: string;
    correlation_id: string;
    bytes: number;
    reason: string;
    parked_at: number;
  }[];
  return rows.map((row) => ({
    seq: row.seq,
    messageId: row.message_id,
    subject: row.subject,
    type: row.type,
    correlationId: row.correlation_id,
    bytes: row.bytes,
    reason: row.reason,
    parkedAt: new Date(row.parked_at),
  }));
}
