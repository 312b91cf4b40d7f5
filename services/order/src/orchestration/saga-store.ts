// The orchestrator's memory: one row per saga instance (its state, its step, the command it awaits a
// reply to and until when) and an append-only history of what happened to it. Both live in Order's
// own database, so a saga advances in the same local transaction as the order it changes, the reply
// it consumed and the command it sends next; a restarted orchestrator reads them back and carries on.
import { randomUUID } from "node:crypto";
import type { Database, RecordedSagaMove } from "@ftgo/platform";

/** One saga instance, as stored. */
export interface SagaRecord {
  readonly sagaId: string;
  /** `CreateOrderSaga` or `CancelOrderSaga`. */
  readonly sagaType: string;
  readonly orderId: string;
  /** The id every message of this saga carries (Ftgo-Correlation-Id): the order id. */
  readonly correlationId: string;
  readonly state: string;
  /** How many states it has entered: 1 in its first. */
  readonly step: number;
  /** The command whose reply it awaits (the reply's causation id must match), if any. */
  readonly pendingCommandId: string | undefined;
  /** When the awaited reply is overdue (ms since the epoch), if one is awaited. */
  readonly deadline: number | undefined;
  /** Why the saga failed, once it has. */
  readonly reason: string;
  readonly ended: boolean;
  readonly createTime: number;
  readonly updateTime: number;
}

/** One line of a saga's history: a state change, or a note (a late reply ignored, a step overdue). */
export interface SagaEvent {
  readonly from: string | null;
  readonly to: string;
  /** The message that caused it; none for a timeout. */
  readonly messageId: string | undefined;
  readonly note: string;
  readonly at: number;
}

/** The change `advance` makes: the next state (awaiting nothing until `await` says what). */
export interface SagaMove {
  readonly to: string;
  readonly reason: string;
  readonly ended: boolean;
  readonly messageId: string | undefined;
  readonly note: string;
}

export interface SagaStore {
  /** Records a new saga in its first state. Call inside the transaction that starts it. */
  insert(saga: { sagaType: string; orderId: string; state: string; reason?: string }): SagaRecord;
  /** The order's saga that has not ended, if any: at most one per order at a time. */
  activeFor(orderId: string): SagaRecord | undefined;
  find(sagaId: string): SagaRecord | undefined;
  /** Every saga of an order, oldest first. */
  ofOrder(orderId: string): SagaRecord[];
  /** Moves the saga from `from` (guarded: false if it is elsewhere now), clears what it awaited, records the move. */
  advance(sagaId: string, from: string, move: SagaMove): boolean;
  /** Sets the awaited command and deadline of the state the saga is in. */
  await(sagaId: string, state: string, pendingCommandId: string | undefined, deadline: number | undefined): void;
  /** Adds a note to the history without changing the state. */
  note(sagaId: string, state: string, note: string, messageId?: string): void;
  /** Sagas whose awaited reply is overdue at `now`. */
  overdue(now: number): SagaRecord[];
  /** How many sagas have not ended. */
  activeCount(): number;
  history(sagaId: string): SagaEvent[];
  /** Every move of every saga of an order, oldest first: what AdminService's ListSentMessages shows beside its messages. */
  movesOf(orderId: string): RecordedSagaMove[];
}

interface SagaRow {
  saga_id: string;
  saga_type: string;
  order_id: string;
  correlation_id: string;
  state: string;
  step: number;
  pending_command_id: string | null;
  deadline: number | null;
  reason: string;
  ended: number;
  create_time: number;
  update_time: number;
}

interface HistoryRow {
  from_state: string | null;
  to_state: string;
  message_id: string | null;
  note: string;
  at: number;
}

/** Opens the saga tables in Order's database, creating them if needed. */
export function openSagaStore(db: Database): SagaStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS sagas (
      saga_id            TEXT PRIMARY KEY,
      saga_type          TEXT NOT NULL,
      order_id           TEXT NOT NULL,
      correlation_id     TEXT NOT NULL,
      state              TEXT NOT NULL,
      step               INTEGER NOT NULL,
      pending_command_id TEXT,
      deadline           INTEGER,
      reason             TEXT NOT NULL DEFAULT '',
      ended              INTEGER NOT NULL DEFAULT 0,
      create_time        INTEGER NOT NULL,
      update_time        INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS one_active_saga_per_order ON sagas (order_id) WHERE ended = 0;
    CREATE INDEX IF NOT EXISTS sagas_by_deadline ON sagas (deadline) WHERE deadline IS NOT NULL;
    CREATE TABLE IF NOT EXISTS saga_history (
      seq        INTEGER PRIMARY KEY AUTOINCREMENT,
      saga_id    TEXT NOT NULL,
      from_state TEXT,
      to_state   TEXT NOT NULL,
      message_id TEXT,
      note       TEXT NOT NULL DEFAULT '',
      at         INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS saga_history_by_saga ON saga_history (saga_id, seq);
  `);
  const insert = db.prepare(
    `INSERT INTO sagas (saga_id, saga_type, order_id, correlation_id, state, step, reason, create_time, update_time)
     VALUES (@sagaId, @sagaType, @orderId, @orderId, @state, 1, @reason, @now, @now)`,
  );
  const byId = db.prepare<[string], SagaRow>("SELECT * FROM sagas WHERE saga_id = ?");
  const active = db.prepare<[string], SagaRow>("SELECT * FROM sagas WHERE order_id = ? AND ended = 0");
  // Ties in create_time broken by creation order: each saga's first history row.
  const ofOrder = db.prepare<[string], SagaRow>(
    `SELECT * FROM sagas WHERE order_id = ?
     ORDER BY create_time, (SELECT min(seq) FROM saga_history h WHERE h.saga_id = sagas.saga_id)`,
  );
  const move = db.prepare(
    `UPDATE sagas SET state = @to, step = step + 1, pending_command_id = NULL, deadline = NULL,
                      reason = @reason, ended = @ended, update_time = @now
     WHERE saga_id = @sagaId AND state = @from AND ended = 0`,
  );
  const setAwait = db.prepare(
    `UPDATE sagas SET pending_command_id = ?, deadline = ?, update_time = ? WHERE saga_id = ? AND state = ?`,
  );
  const record = db.prepare(
    "INSERT INTO saga_history (saga_id, from_state, to_state, message_id, note, at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const overdue = db.prepare<[number], SagaRow>(
    "SELECT * FROM sagas WHERE deadline IS NOT NULL AND deadline <= ? AND ended = 0 ORDER BY deadline",
  );
  const count = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sagas WHERE ended = 0");
  const history = db.prepare<[string], HistoryRow>("SELECT * FROM saga_history WHERE saga_id = ? ORDER BY seq");
  const movesOf = db.prepare<[string], HistoryRow & { saga_type: string }>(
    `SELECT s.saga_type, h.from_state, h.to_state, h.message_id, h.note, h.at
     FROM saga_history h JOIN sagas s USING (saga_id) WHERE s.order_id = ? ORDER BY h.seq`,
  );

  const find = (sagaId: string) => {
    const row = byId.get(sagaId);
    return row && toRecord(row);
  };
  return {
    insert({ sagaType, orderId, state, reason = "" }) {
      const sagaId = randomUUID();
      const now = Date.now();
      insert.run({ sagaId, sagaType, orderId, state, reason, now });
      record.run(sagaId, null, state, null, "", now);
      return find(sagaId) as SagaRecord;
    },
    activeFor(orderId) {
      const row = active.get(orderId);
      return row && toRecord(row);
    },
    find,
    ofOrder: (orderId) => ofOrder.all(orderId).map(toRecord),
    advance(sagaId, from, next) {
      const now = Date.now();
      const moved =
        move.run({
          sagaId,
          from,
          to: next.to,
          reason: next.reason,
          ended: next.ended ? 1 : 0,
          now,
        }).changes === 1;
      if (moved) record.run(sagaId, from, next.to, next.messageId ?? null, next.note, now);
      return moved;
    },
    await(sagaId, state, pendingCommandId, deadline) {
      setAwait.run(pendingCommandId ?? null, deadline ?? null, Date.now(), sagaId, state);
    },
    note(sagaId, state, note, messageId) {
      record.run(sagaId, state, state, messageId ?? null, note, Date.now());
    },
    overdue: (now) => overdue.all(now).map(toRecord),
    activeCount: () => count.get()?.n ?? 0,
    history: (sagaId) => history.all(sagaId).map(toEvent),
    movesOf: (orderId) => movesOf.all(orderId).map((row) => ({ sagaType: row.saga_type, ...toEvent(row) })),
  };
}

function toEvent(row: HistoryRow): SagaEvent {
  return {
    from: row.from_state,
    to: row.to_state,
    messageId: row.message_id ?? undefined,
    note: row.note,
    at: row.at,
  };
}

function toRecord(row: SagaRow): SagaRecord {
  return {
    sagaId: row.saga_id,
    sagaType: row.saga_type,
    orderId: row.order_id,
    correlationId: row.correlation_id,
    state: row.state,
    step: row.step,
    pendingCommandId: row.pending_command_id ?? undefined,
    deadline: row.deadline ?? undefined,
    reason: row.reason,
    ended: row.ended === 1,
    createTime: row.create_time,
    updateTime: row.update_time,
  };
}
