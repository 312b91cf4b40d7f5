// The SQLite engine: better-sqlite3, a file per service. WAL mode lets readers run beside the one
// writer; `synchronous = NORMAL` in WAL mode keeps every committed transaction across a process crash
// (SIGKILL), which is the failure the saga tests inflict — only a power cut could lose the last commits.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Database, Statement, Transaction } from "./types.js";

/**
 * Opens `file`, creating it and bringing it up to `migrations`; without migrations, a file that must exist,
 * as it is (read-only when asked).
 */
export function openSqlite(
  file: string,
  migrations: readonly string[] | undefined,
  options: { readonly readonly?: boolean } = {},
): Database {
  const existing = migrations === undefined;
  if (!existing && file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: existing });
  try {
    if (!existing) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
    }
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    if (migrations) migrate(db, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    engine: "sqlite",
    get open() {
      return db.open;
    },
    get inTransaction() {
      return db.inTransaction;
    },
    prepare: <P extends unknown[] | object, R>(sql: string) => statement<P, R>(db.prepare(sql)),
    exec: (sql) => void db.exec(sql),
    transaction: (fn) => db.transaction(fn) as unknown as Transaction<typeof fn>,
    commitsByOthers: () => db.pragma("data_version", { simple: true }) as number,
    close: () => db.close(),
  };
}

function statement<P extends unknown[] | object, R>(
  inner: BetterSqlite3.Statement<unknown[], unknown>,
): Statement<P, R> {
  return {
    run: (...params) => inner.run(...(params as unknown[])),
    get: (...params) => inner.get(...(params as unknown[])) as R | undefined,
    all: (...params) => inner.all(...(params as unknown[])) as R[],
    pluck: <T>() => statement<P, T>(inner.pluck()),
    raw: <T extends unknown[]>() => statement<P, T>(inner.raw()),
  };
}

/** SQLite's `user_version` counts the migrations that have run. */
function migrate(db: BetterSqlite3.Database, migrations: readonly string[]): void {
  const applied = db.pragma("user_version", { simple: true }) as number;
  if (applied > migrations.length) {
    throw new Error(`database schema version ${applied} is newer than this code knows (${migrations.length})`);
  }
  for (let version = applied; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
