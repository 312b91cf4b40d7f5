// Wake on commit. The relay should publish a row the moment the transaction that appended it commits,
// not at its next poll; asking every caller to remember `relay.kick()` after every transaction leaves
// the commit paths nobody remembered (a consumer's handler, a timer's transaction) waiting. So the
// outbox itself raises the signal when it appends: better-sqlite3 transactions are synchronous, so a
// microtask queued inside one runs after it has committed (or rolled back: a spurious wake-up, which
// costs one empty read). Only listeners in this process hear it; rows another process writes to the
// same file are found by the relay's poll.
import type { Database } from "../db.js";

const listeners = new WeakMap<Database, Set<() => void>>();
const signalled = new WeakSet<Database>();

/**
 * Tells `db`'s listeners, once the current transaction has ended, that the outbox has new rows. Many
 * appends in one transaction (or in one tick) make one signal.
 */
export function signalOutboxCommit(db: Database): void {
  if (signalled.has(db) || !listeners.get(db)?.size) return;
  signalled.add(db);
  queueMicrotask(() => {
    signalled.delete(db);
    for (const listener of listeners.get(db) ?? []) listener();
  });
}

/** Calls `listener` after each transaction that appended to `db`'s outbox. Returns how to stop listening. */
export function onOutboxCommit(db: Database, listener: () => void): () => void {
  const set = listeners.get(db) ?? new Set();
  listeners.set(db, set);
  set.add(listener);
  return () => void set.delete(listener);
}
