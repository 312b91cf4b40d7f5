// An entity's state machine (orders, tickets, authorizations): the transitions it allows, each change
// guarded so that a duplicate, late or competing message can never move a row twice, and every change
// recorded in the entity's append-only state history (below the machine, which writes to it).
import type { Database } from "./db.js";

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
      insert.run(entity, entityId, from, to, messageId || null, Date.now()); // "": no message caused it
    },
    of: (entityId) => ofOne.all(entity, entityId).map(toTransition),
    all: () => every.all(entity).map(toTransition),
  };
}

/** An entity's state machine: every `from → to` the code may make, and nothing else (a state not listed has no way out). */
export type Transitions<S extends string> = Readonly<Partial<Record<S, readonly S[]>>>;

/** Guarded state changes of one table's rows, each recorded in the entity's history. */
export interface StateMachine<S extends string> {
  readonly history: StateHistory;
  /**
   * Moves the row `id` from `from` to `to` (with `reason`) if it is in `from` now, and records it as caused
   * by `messageId`. False when it was not in `from`: another message got there first, or the saga moved on.
   * Throws when the state machine has no such transition: that is a bug, not a race. Call inside a transaction.
   */
  transition(id: string, from: S, to: S, reason: string, messageId?: string): boolean;
}

/**
 * The state changes of a saga participant's entity (orders, tickets, authorizations), guarded and audited in
 * one place: an UPDATE that only matches a row still in the expected state — so a duplicate, a late or a
 * competing message can never move a row twice — and a history record of the change. The table needs
 * `state`, `reason` and `update_time` columns, keyed by `order_id`, as each of ours is.
 */
export function createStateMachine<S extends string>(
  db: Database,
  options: { readonly entity: string; readonly table: string; readonly transitions: Transitions<S> },
): StateMachine<S> {
  const { entity, table, transitions } = options;
  const history = createStateHistory(db, entity);
  const update = db.prepare<{ id: string; from: string; to: string; reason: string; now: number }>(
    `UPDATE ${table} SET state = @to, reason = @reason, update_time = @now WHERE order_id = @id AND state = @from`,
  );
  return {
    history,
    transition(id, from, to, reason, messageId) {
      if (!transitions[from]?.includes(to)) throw new Error(`${entity} state machine has no ${from} → ${to}`);
      const moved = update.run({ id, from, to, reason, now: Date.now() }).changes === 1;
      if (moved) history.record(id, from, to, messageId);
      return moved;
    },
  };
}
