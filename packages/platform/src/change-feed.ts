// A feed of committed changes, for server-streaming "Watch" RPCs (WatchOrder, WatchTickets): a store
// publishes each change inside the transaction that makes it; watchers receive it once that transaction
// has committed, in commit order, and never a change that was rolled back — whichever instance of the
// service made it. Instances of a service share its database, so the feed lives there too: each change is
// a row of the change_log table, written in the change's own transaction. A process reads the rows after
// the last it read when it commits one itself, and when `PRAGMA data_version` says another connection
// committed (polled only while someone here watches). A watcher on one instance thereby sees the changes
// the other instances make, not only its own process's.
import type { Database } from "./db.js";

/** A watch that has begun: the state read when it began, then every change committed after that read. */
export interface Watch<S, T> {
  readonly current: S;
  /** Ends (without error) when the watch's signal aborts or the feed closes. Read it in one loop only. */
  readonly changes: AsyncIterable<T>;
}

/** Committed changes of a store's entities, keyed (by order id, by restaurant id…), to watchers. */
export interface ChangeFeed<T> {
  /**
   * Announces a change of `key` whose new state is `value` (read inside the transaction, so it is the state
   * this change made, not whatever a later one made). Call inside the transaction that makes the change. It
   * is stored whether or not anyone watches: a watcher may be on another instance.
   */
  publish(key: string, value: T): void;
  /**
   * Starts watching `key`: reads the current state with `readCurrent` and the feed's position in one read
   * transaction, so that every change committed after that read is delivered exactly once and none
   * committed before it is delivered at all. If `readCurrent` throws (NOT_FOUND, say) nothing stays
   * subscribed. The watcher goes when `signal` aborts (a gRPC handler's signal aborts when its call ends) or
   * when the loop over the changes ends.
   */
  watch<S>(key: string, signal: AbortSignal, readCurrent: () => S): Watch<S, T>;
  /** How many watchers listen here to `key`, or to any key: the way to check that no watch leaks. */
  listenerCount(key?: string): number;
  /** Ends every watch and drops undelivered changes: the database is closing. */
  close(): void;
}

/** How a feed's values are stored in the change_log (a protobuf message's toBinary/fromBinary, say). */
export interface ChangeCodec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export interface ChangeFeedOptions<T> {
  /** The feed's name in the change_log: one database may hold several feeds. */
  readonly name: string;
  readonly codec: ChangeCodec<T>;
  /** How often a process with watchers asks whether another connection committed. Default 50 ms. */
  readonly pollMs?: number;
}

/**
 * Changes are kept this long, then deleted: far longer than any instance with watchers takes to read them
 * (it polls every 50 ms), and a watch only ever wants the changes after it began.
 */
const KEEP_MS = 60_000;
/** Every this many publishes, the publishing process deletes the changes older than KEEP_MS. */
const PRUNE_EVERY = 500;

interface Watcher<T> {
  /** The change_log position when the watch read its current state: older changes are in that read. */
  readonly after: number;
  push(value: T): void;
  end(): void;
}

interface Row {
  readonly seq: number;
  readonly key: string;
  readonly value: Buffer;
}

/**
 * Makes a change feed over `db`. A change's position is its change_log seq: a service's writers commit one
 * at a time (SQLite's one writer; PostgreSQL's writer lock, db/postgres.ts), so seq order is commit order
 * across every instance, and a reader sees a transaction's rows all or
 * none. Reading the rows after the last one read therefore delivers every committed change once, in order.
 */
export function createChangeFeed<T>(db: Database, options: ChangeFeedOptions<T>): ChangeFeed<T> {
  const { name, codec } = options;
  const pollMs = options.pollMs ?? 50;
  db.exec(`
    CREATE TABLE IF NOT EXISTS change_log (
      seq   INTEGER PRIMARY KEY AUTOINCREMENT,
      feed  TEXT NOT NULL,
      key   TEXT NOT NULL,
      value BLOB NOT NULL,
      at    INTEGER NOT NULL
    )
  `);
  const append = db.prepare<[string, string, Uint8Array, number]>(
    "INSERT INTO change_log (feed, key, value, at) VALUES (?, ?, ?, ?)",
  );
  const since = db.prepare<[string, number], Row>(
    "SELECT seq, key, value FROM change_log WHERE feed = ? AND seq > ? ORDER BY seq",
  );
  const position = db.prepare<[], number>("SELECT coalesce(max(seq), 0) FROM change_log").pluck();
  const prune = db.prepare<[string, number]>("DELETE FROM change_log WHERE feed = ? AND at < ?");
  const watchers = new Map<string, Set<Watcher<T>>>();
  let read = position.get() ?? 0;
  let publishes = 0;
  let scheduled = false;
  let closed = false;
  let poll: NodeJS.Timeout | undefined;
  let dataVersion = 0;

  const deliver = () => {
    scheduled = false;
    if (closed || !db.open) return;
    // A transaction held open across ticks (not something our stores do): wait for it, without spinning.
    if (db.inTransaction) return schedule(setImmediate);
    for (const row of since.all(name, read)) {
      read = row.seq;
      const set = watchers.get(row.key);
      if (!set) continue;
      const value = codec.decode(row.value);
      for (const watcher of set) if (row.seq > watcher.after) watcher.push(value);
    }
  };
  const schedule = (later: (run: () => void) => unknown = queueMicrotask) => {
    if (scheduled) return;
    scheduled = true;
    later(deliver);
  };
  /**
   * Whether another connection may have committed since the last look: SQLite's data_version moved (cheap,
   * no read), or, on PostgreSQL, the log's position moved past what was read.
   */
  const othersCommitted = (): boolean => {
    const version = db.commitsByOthers();
    if (version === undefined) return (position.get() ?? 0) > read;
    if (version === dataVersion) return false;
    dataVersion = version;
    return true;
  };
  const checkOthers = () => {
    if (closed || !db.open) return;
    if (othersCommitted()) schedule();
  };
  const pollWhileWatched = () => {
    if (watchers.size > 0 && !poll && !closed) {
      dataVersion = db.commitsByOthers() ?? 0;
      poll = setInterval(checkOthers, pollMs);
      poll.unref();
    } else if (watchers.size === 0 && poll) {
      clearInterval(poll);
      poll = undefined;
    }
  };
  /** The current state and the feed's position, read in one snapshot. */
  const begin = db.transaction((readCurrent: () => unknown) => ({
    current: readCurrent(),
    after: position.get() ?? 0,
  }));

  return {
    publish(key, value) {
      if (closed) return;
      const now = Date.now();
      append.run(name, key, codec.encode(value), now);
      if (++publishes % PRUNE_EVERY === 0) prune.run(name, now - KEEP_MS);
      if (watchers.size > 0) schedule(); // runs once this transaction is over: committed, or rolled back
    },
    watch(key, signal, readCurrent) {
      if (db.inTransaction) throw new Error("watch() reads the current state, so it must not run inside a transaction");
      const { current, after } = begin(readCurrent); // throws before anything subscribes
      // The first watcher here: nobody needs the changes before its position (none were read while unwatched).
      if (watchers.size === 0) read = Math.max(read, after);
      const set = watchers.get(key) ?? new Set<Watcher<T>>();
      const { watcher, changes } = subscribe<T>(after, signal, () => {
        set.delete(watcher);
        if (set.size === 0 && watchers.get(key) === set) watchers.delete(key);
        pollWhileWatched();
      });
      watchers.set(key, set.add(watcher));
      pollWhileWatched();
      if (closed || signal.aborted) watcher.end();
      else signal.addEventListener("abort", watcher.end, { once: true });
      // Changes committed between `read` and this watch's position are read on the next delivery.
      if (after > read) schedule();
      return { current: current as ReturnType<typeof readCurrent>, changes };
    },
    listenerCount(key) {
      if (key !== undefined) return watchers.get(key)?.size ?? 0;
      let count = 0;
      for (const set of watchers.values()) count += set.size;
      return count;
    },
    close() {
      closed = true;
      for (const set of [...watchers.values()]) for (const watcher of [...set]) watcher.end();
      if (poll) clearInterval(poll);
      poll = undefined;
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
