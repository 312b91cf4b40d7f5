// The PostgreSQL engine on a real server: the same store code as on SQLite — migrations, parameters,
// transactions — and what several instances of a service need from it: one writer at a time, a change
// feed and a lease that work across connections, an inbox that handles a message once.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createChangeFeed } from "../src/change-feed.js";
import { loadConfig } from "../src/config.js";
import { type Database, type DatabaseLocation, openDatabase, openExistingDatabase } from "../src/db.js";
import { createInbox } from "../src/messaging/inbox.js";
import { createLease } from "../src/messaging/lease.js";
import type { MessageContext } from "../src/messaging/subscriptions.js";
import { type PostgresServerHandle, startPostgresServer } from "../src/testing/postgres-server.js";
import { waitFor } from "../src/testing/wait.js";
import { changeOn, collect, text } from "./change-feed-fixtures.js";

const SCHEMA = [
  "CREATE TABLE things (id TEXT PRIMARY KEY, state TEXT NOT NULL, at INTEGER NOT NULL DEFAULT 0, body BLOB)",
  "ALTER TABLE things ADD COLUMN note TEXT NOT NULL DEFAULT ''",
];

let pg: PostgresServerHandle;
let schemas = 0;
const open: Database[] = [];

beforeAll(async () => {
  pg = await startPostgresServer();
}, 90_000);
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});
afterAll(async () => {
  await pg?.stop();
});

/** A fresh schema of the server's database, as a service's own. */
function freshLocation() {
  return { engine: "postgres", url: pg.url, schema: `test_${++schemas}` } as const satisfies DatabaseLocation;
}
function track(db: Database): Database {
  open.push(db);
  return db;
}

describe("the PostgreSQL engine", () => {
  it("creates the service's schema, runs each migration once, and refuses a schema newer than the code", () => {
    const where = freshLocation();
    const db = track(openDatabase(where, SCHEMA));
    expect(db.engine).toBe("postgres");
    db.prepare("INSERT INTO things (id, state) VALUES (?, ?)").run("t-1", "A");
    const again = track(openDatabase(where, SCHEMA)); // a second instance: nothing to run, the row is there
    expect(again.prepare("SELECT id, state, note FROM things").all()).toEqual([{ id: "t-1", state: "A", note: "" }]);
    expect(() => openDatabase(where, SCHEMA.slice(0, 1))).toThrow("schema version 2 is newer than this code knows (1)");
  });

  it("binds ? and @name parameters and returns integers as numbers, bytes as a Buffer, NULL as null", () => {
    const db = track(openDatabase(freshLocation(), SCHEMA));
    const at = Date.now(); // beyond 32 bits: the schema's INTEGER must be 64-bit
    db.prepare("INSERT INTO things (id, state, at, body) VALUES (@id, @state, @at, @body)").run({
      id: "t-1",
      state: "A",
      at,
      body: new Uint8Array([1, 2, 255]),
    });
    db.prepare("INSERT INTO things (id, state, at, body) VALUES (?, ?, ?, ?)").run("t-2", "B", 7n, null);
    const row = db.prepare<[string], { at: number; body: Buffer | null }>("SELECT at, body FROM things WHERE id = ?");
    expect(row.get("t-1")).toEqual({ at, body: Buffer.from([1, 2, 255]) });
    expect(row.get("t-2")).toEqual({ at: 7, body: null });
    expect(row.get("t-3")).toBeUndefined();
    expect(db.prepare("SELECT count(*) FROM things").pluck().get()).toBe(2);
    expect(db.prepare("SELECT id, state FROM things ORDER BY id").raw().all()).toEqual([
      ["t-1", "A"],
      ["t-2", "B"],
    ]);
    expect(db.prepare("UPDATE things SET note = 'x'").run().changes).toBe(2);
  });

  it("commits a transaction, rolls back one that throws, and rolls back a nested one alone", () => {
    const db = track(openDatabase(freshLocation(), SCHEMA));
    const insert = db.prepare("INSERT INTO things (id, state) VALUES (?, 'A')");
    const ids = () => db.prepare("SELECT id FROM things ORDER BY id").pluck().all();
    expect(() =>
      db.transaction(() => {
        insert.run("lost");
        throw new Error("the handler failed");
      })(),
    ).toThrow("the handler failed");
    expect(db.inTransaction).toBe(false);
    db.transaction(() => {
      insert.run("kept");
      expect(db.inTransaction).toBe(true);
      expect(() =>
        db.transaction(() => {
          insert.run("inner");
          throw new Error("inner failed");
        })(),
      ).toThrow("inner failed");
      insert.run("after");
    })();
    expect(ids()).toEqual(["after", "kept"]);
    // A failed statement aborts a PostgreSQL transaction; the rollback leaves the connection usable.
    expect(() => db.transaction(() => insert.run("kept"))()).toThrow(/duplicate key/);
    expect(ids()).toEqual(["after", "kept"]);
  });

  it("lets one connection of a service write at a time: a transaction holds the service's writer lock", () => {
    const where = freshLocation();
    const db = track(openDatabase(where, SCHEMA));
    const other = track(openDatabase(where, SCHEMA));
    const otherService = track(openDatabase(freshLocation(), SCHEMA));
    const held = (by: Database) =>
      by
        .prepare("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()")
        .pluck();
    expect(held(other).get()).toBe(0);
    db.transaction(() => {
      db.prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
      // The other instance's writer lock is this one: it cannot take it now (it would wait).
      const key = other.prepare("SELECT hashtextextended(?, 0)::text").pluck().get(`ftgo:writer:${where.schema}`);
      expect(other.prepare("SELECT pg_try_advisory_lock(?::bigint)").pluck().get(key)).toBe(false);
      // Another service's writers are not held up.
      otherService.prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
    })();
    expect(held(other).get()).toBe(0);
  });

  it("opens an existing schema read-only, and says so when the schema is missing", () => {
    const where = freshLocation();
    track(openDatabase(where, SCHEMA)).prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
    const reader = track(openExistingDatabase(where, { readonly: true }));
    expect(reader.prepare("SELECT state FROM things").pluck().get()).toBe("A");
    expect(() => reader.prepare("DELETE FROM things").run()).toThrow(/read-only transaction/);
    expect(() => openExistingDatabase(freshLocation())).toThrow(/no schema "test_\d+" in this database/);
  });

  it("handles a message once through the inbox, even delivered to two instances", () => {
    const where = freshLocation();
    const [a, b] = [track(openDatabase(where, SCHEMA)), track(openDatabase(where, SCHEMA))] as [Database, Database];
    const ctx = { messageId: "m-1", type: "ThingHappened" } as MessageContext;
    const handle = (db: Database) => () => db.prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
    expect(createInbox(a).handleOnce(ctx, handle(a))).toBe(true);
    expect(createInbox(b).handleOnce(ctx, handle(b))).toBe(false); // a duplicate: not run
    expect(() =>
      createInbox(b).handleOnce({ ...ctx, messageId: "m-2" }, () => {
        throw new Error("the handler failed");
      }),
    ).toThrow("the handler failed");
    // A failed handler records nothing: the redelivery runs it.
    expect(createInbox(b).handleOnce({ ...ctx, messageId: "m-2" }, () => {})).toBe(true);
  });

  it("gives the lease to one instance at a time, and to the other once it is released", () => {
    const where = freshLocation();
    const a = createLease(track(openDatabase(where, SCHEMA)), "relay_lease", "a");
    const b = createLease(track(openDatabase(where, SCHEMA)), "relay_lease", "b");
    expect(a.renew()).toBe(true);
    expect(b.renew()).toBe(false);
    expect(a.renew()).toBe(true);
    a.release();
    expect(b.renew()).toBe(true);
    expect(a.renew()).toBe(false);
  });

  it("feeds a watcher on one instance the changes another commits, once each, in commit order", async () => {
    const where = freshLocation();
    const db = track(openDatabase(where, SCHEMA));
    const other = track(openDatabase(where, SCHEMA));
    db.prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
    const feed = createChangeFeed(db, { name: "things", codec: text });
    const otherFeed = createChangeFeed(other, { name: "things", codec: text, pollMs: 10 });
    const calls = new AbortController();
    try {
      const watch = otherFeed.watch("t-1", calls.signal, () =>
        other.prepare("SELECT state FROM things WHERE id = 't-1'").pluck().get(),
      );
      const { seen } = collect(watch.changes);
      changeOn(db, feed, "B");
      expect(() =>
        db.transaction(() => {
          feed.publish("t-1", "ROLLED-BACK");
          throw new Error("the handler failed");
        })(),
      ).toThrow("the handler failed");
      changeOn(db, feed, "C");
      await waitFor(() => seen.length === 2);
      expect([watch.current, ...seen]).toEqual(["A", "B", "C"]);
    } finally {
      calls.abort();
      feed.close();
      otherFeed.close();
    }
  });
});

describe("closing a connection", () => {
  it("never aborts the process, even when the closed client is collected at once", async () => {
    // libpq's addon closes its socket watcher asynchronously, inside the client object: collected before the
    // close completes, the process aborted in libuv (uv__finish_close). endClient holds it until then.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const where = freshLocation();
    for (let i = 0; i < 50; i++) {
      openDatabase(where, SCHEMA).close();
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(track(openDatabase(where, SCHEMA)).open).toBe(true); // and this process is still here to say so
  });
});

describe("DATABASE_URL", () => {
  it("selects PostgreSQL for a postgres:// URL, SQLite when unset, and names a wrong one without its password", () => {
    const base = { service: "order", port: 50051 };
    expect(loadConfig({}, base).databaseUrl).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: "postgres://u@h:5432/ftgo" }, base).databaseUrl).toBe("postgres://u@h:5432/ftgo");
    expect(() => loadConfig({ DATABASE_URL: "mysql://u:secret@h/ftgo" }, base)).toThrow(
      /DATABASE_URL must be a PostgreSQL URL .*"mysql:\/\/u:\*\*\*@h\/ftgo"/,
    );
  });
});
