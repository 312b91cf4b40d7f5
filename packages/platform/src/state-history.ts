import type { Database } from "better-sqlite3";

/** One recorded state change of an entity (an order, a ticket, an authorization). */
export interface StateTransition {
  readonly entityId: string;
  readonly from: string | null;
  readonly to: string;
  /** The message whose handling caused it, or undefined for a change made by an RPC. */
  readonly messageId: string | undefined;
  readonly at: number;
}

/** Append-only history of an entity's states, in the service's own database. */
export interface StateHistory {
  /** Records `from → to`; call inside the transaction that makes the change. */
  record(entityId: string, from: string | null, to: string, messageId?: string): void;
  /** Every transition of one entity, oldest first. */
  of(entityId: string): StateTransition[];
  /** Every transition, oldest first (tests check each against the state machine). */
  all(): StateTransition[];
}

interface Row {
  entity_id: string;
  from_state: string | null;
  to_state: string;
  message_id: string | null;
  at: number;
}

/**
 * The audit trail of a saga participant: every state change with the message that caused it. It makes
 * a saga's path readable after the fact ("APPROVAL_PENDING → REJECTED, caused by message …"), and lets
 * tests assert that no service ever recorded a transition its state machine does not allow, even with
 * competing instances, redeliveries and crashes.
 */
export function createStateHistory(db: Database, entity: string): StateHistory {
  db.exec(`CREATE TABLE IF NOT EXISTS state_transitions (
     seq        INTEGER PRIMARY KEY AUTOINCREMENT,
     entity     TEXT NOT NULL,
     entity_id  TEXT NOT NULL,
     from_state TEXT,
     to_state   TEXT NOT NULL,
     message_id TEXT,
     at         INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS state_transitions_by_entity ON state_transitions (entity, entity_id, seq);`);
  const insert = db.prepare(
    "INSERT INTO state_transitions (entity, entity_id, from_state, to_state, message_id, at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const ofOne = db.prepare<[string, string], Row>(
    "SELECT * FROM state_transitions WHERE entity = ? AND entity_id = ? ORDER BY seq",
  );
  const every = db.prepare<[string], Row>("SELECT * FROM state_transitions WHERE entity = ? ORDER BY seq");
  const toTransition = (row: Row): StateTransition => ({
    entityId: row.entity_id,
    from: row.from_state,
    to: row.to_state,
    messageId: row.message_id ?? undefined,
    at: row.at,
  });
  return {
    record(entityId, from, to, messageId) {
      insert.run(entity, entityId, from, to, messageId ?? null, Date.now());
    },
    of: (entityId) => ofOne.all(entity, entityId).map(toTransition),
    all: () => every.all(entity).map(toTransition),
  };
}
