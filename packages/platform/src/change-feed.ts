// An in-process feed of committed changes, for server-streaming "Watch" RPCs (WatchOrder, WatchTickets):
// a store publishes each change inside the transaction that makes it; watchers receive it once that
// transaction has committed, in commit order, and never a change that was rolled back.
import type { Database } from "./db.js";

/** A watch that has begun: the state read when it began, then every change committed after that read. */
export interface Watch<S, T> {
  readonly current: S;
  /** Ends (without error) when the watch's signal aborts or the feed closes. Read it in one loop only. */
  readonly changes: AsyncIterable<T>;
}

/** Committed changes of a store's entities, keyed (by order id, by restaurant id…), to in-process watchers. */
export interface ChangeFeed<T> {
  /**
   * Announces a change of `key` whose new state is `value` (read inside the transaction, so it is the state
   * this change made, not whatever a later one made). Call inside the transaction that makes the change.
   * Costs nothing when nobody watches `key`; check `listenerCount` first if reading `value` costs something.
   */
  publish(key: string, value: T): void;
  /**
   * Starts watching `key`: listens first, then calls `readCurrent` (outside any transaction), so that every
   * change committed after that read is delivered exactly once and none committed before it is delivered
   * at all. If `readCurrent` throws (NOT_FOUND, say) nothing stays subscribed. The listener goes when
   * `signal` aborts (a gRPC handler's signal aborts when its call ends) or when the loop over the changes ends.
   */
  watch<S>(key: string, signal: AbortSignal, readCurrent: () => S): Watch<S, T>;
  /** How many watchers listen to `key`, or to any key: the way to check that no watch leaks. */
  listenerCount(key?: string): number;
  /** Ends every watch and drops undelivered changes: the database is closing. */
  close(): void;
}

interface Watcher<T> {
  /** The publish number at the time the watch read its current state: older changes are in that read. */
  readonly after: number;
  push(value: T): void;
  end(): void;
}

interface Pending<T> {
  readonly n: number;
  readonly key: string;
  readonly value: T;
}

let feeds = 0;

/**
 * Makes a change feed over `db`. Whether a change committed is known without hooking SQLite's commit:
 * `publish` also inserts its number into a TEMP table in the same transaction, so a rollback removes it.
 * Once the transaction is over (a microtask later: better-sqlite3 transactions are synchronous), the
 * numbers still in that table are the committed changes; they go out in publish order, which within one
 * connection is commit order. Only this process's commits are seen: a watcher of one instance does not hear
 * about changes another instance (sharing the database file) makes.
 */
export function createChangeFeed<T>(db: Database): ChangeFeed<T> {
  const table = `temp.change_feed_${++feeds}`;
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (n INTEGER PRIMARY KEY)`);
  const mark = db.prepare<[number]>(`INSERT INTO ${table} (n) VALUES (?)`);
  const committed = db.prepare<[], number>(`SELECT n FROM ${table}`).pluck();
  const forget = db.prepare(`DELETE FROM ${table}`);
  const watchers = new Map<string, Set<Watcher<T>>>();
  let pending: Pending<T>[] = [];
  let published = 0;
  let scheduled = false;
  let closed = false;

  const deliver = () => {
    scheduled = false;
    if (closed || !db.open) return;
    // A transaction held open across ticks (not something our stores do): wait for it, without spinning.
    if (db.inTransaction) return schedule(setImmediate);
    const done = new Set(committed.all());
    forget.run();
    const batch = pending;
    pending = [];
    for (const change of batch) {
      if (!done.has(change.n)) continue; // rolled back
      for (const watcher of watchers.get(change.key) ?? []) if (change.n > watcher.after) watcher.push(change.value);
    }
  };
  const schedule = (later: (run: () => void) => unknown = queueMicrotask) => {
    if (scheduled) return;
    scheduled = true;
    later(deliver);
  };

  return {
    publish(key, value) {
      // Nobody watches `key`: nothing to deliver, and nobody can start watching before this transaction
      // ends (watch() refuses to run inside one), so the change needs no tracking at all.
      if (closed || !watchers.has(key)) return;
      const n = ++published;
      mark.run(n);
      pending.push({ n, key, value });
      schedule();
    },
    watch(key, signal, readCurrent) {
      if (db.inTransaction) throw new Error("watch() reads the current state, so it must not run inside a transaction");
      const set = watchers.get(key) ?? new Set<Watcher<T>>();
      const { watcher, changes } = subscribe<T>(published, signal, () => {
        set.delete(watcher);
        if (set.size === 0 && watchers.get(key) === set) watchers.delete(key);
      });
      watchers.set(key, set.add(watcher));
      if (closed || signal.aborted) watcher.end();
      else signal.addEventListener("abort", watcher.end, { once: true });
      try {
        return { current: readCurrent(), changes };
      } catch (err) {
        watcher.end();
        throw err;
      }
    },
    listenerCount(key) {
      if (key !== undefined) return watchers.get(key)?.size ?? 0;
      let count = 0;
      for (const set of watchers.values()) count += set.size;
      return count;
    },
    close() {
      closed = true;
      pending = [];
      for (const set of [...watchers.values()]) for (const watcher of [...set]) watcher.end();
    },
  };
}

/**
 * One watcher: a queue its changes wait in, and the loop that reads it. Ending it — its signal, the feed
 * closing, or the reader leaving its loop — calls `release` once, so the feed forgets it at once, even when
 * nobody ever reads the changes.
 */
function subscribe<T>(after: number, signal: AbortSignal, release: () => void) {
  const queue: T[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const watcher: Watcher<T> = {
    after,
    push(value) {
      if (ended) return;
      queue.push(value);
      wake?.();
    },
    end() {
      if (ended) return;
      ended = true;
      signal.removeEventListener("abort", watcher.end);
      release();
      wake?.();
    },
  };

  async function* changes(): AsyncGenerator<T> {
    try {
      for (;;) {
        if (queue.length > 0) yield queue.shift() as T;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      watcher.end();
    }
  }
  return { watcher, changes: changes() };
}
