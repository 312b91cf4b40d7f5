// A bare participant's SQLite file: one state row per order, the ids of the messages it handled, and the
// messages each of those caused, all written in one transaction. Opened with the platform's pragmas
// (packages/platform/src/db.ts: WAL, synchronous = NORMAL, busy_timeout), so the disk costs the same.
import Database from "better-sqlite3";

/** A message a step sends: written in the step's transaction, published after it commits. */
export interface Outgoing {
  readonly messageId: string;
  readonly subject: string;
  readonly orderId: string;
  readonly body: Uint8Array;
}

/** One order's row in this participant. `facts` is Accounting's bit set of the three facts it waits for. */
export interface StateRow {
  readonly order_id: string;
  readonly state: string;
  readonly facts: number;
  readonly consumer_id: string;
  readonly amount_minor: number;
  readonly changes: number;
}

export interface BareStore {
  /** The state row, if this participant has one for the order. */
  find(orderId: string): StateRow | undefined;
  /** Inserts or replaces the order's row; `changes` counts every write, so the audit sees a step run twice. */
  save(row: Omit<StateRow, "changes">): void;
  /**
   * Runs `step` once per message id, in one IMMEDIATE transaction with the processed id and the messages
   * it returns. For a message handled before, returns the messages it caused then (to publish again:
   * the broker drops copies by `Nats-Msg-Id`), without running the step.
   */
  handleOnce(messageId: string, step: () => readonly Outgoing[]): readonly Outgoing[];
  close(): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS state (
    order_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    facts        INTEGER NOT NULL DEFAULT 0,
    consumer_id  TEXT NOT NULL DEFAULT '',
    amount_minor INTEGER NOT NULL DEFAULT 0,
    changes      INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE IF NOT EXISTS processed (message_id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS sent (
    message_id TEXT PRIMARY KEY,
    cause_id   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    order_id   TEXT NOT NULL,
    body       BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sent_by_cause ON sent (cause_id);
`;

export function openBareStore(file: string): BareStore {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  const find = db.prepare<[string], StateRow>("SELECT * FROM state WHERE order_id = ?");
  const save = db.prepare<[string, string, number, string, number]>(
    `INSERT INTO state (order_id, state, facts, consumer_id, amount_minor) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, facts = excluded.facts,
       consumer_id = excluded.consumer_id, amount_minor = excluded.amount_minor, changes = changes + 1`,
  );
  const remember = db.prepare<[string]>("INSERT OR IGNORE INTO processed (message_id) VALUES (?)");
  const record = db.prepare<[string, string, string, string, Uint8Array]>(
    "INSERT INTO sent (message_id, cause_id, subject, order_id, body) VALUES (?, ?, ?, ?, ?)",
  );
  const causedBy = db.prepare<[string], { message_id: string; subject: string; order_id: string; body: Buffer }>(
    "SELECT message_id, subject, order_id, body FROM sent WHERE cause_id = ?",
  );
  const once = db.transaction((messageId: string, step: () => readonly Outgoing[]): readonly Outgoing[] => {
    if (remember.run(messageId).changes === 0) {
      return causedBy.all(messageId).map((r) => ({ ...r, messageId: r.message_id, orderId: r.order_id }));
    }
    const outgoing = step();
    for (const m of outgoing) record.run(m.messageId, messageId, m.subject, m.orderId, m.body);
    return outgoing;
  });
  return {
    find: (orderId) => find.get(orderId),
    save: (row) => save.run(row.order_id, row.state, row.facts, row.consumer_id, row.amount_minor),
    handleOnce: (messageId, step) => once.immediate(messageId, step),
    close: () => db.close(),
  };
}
