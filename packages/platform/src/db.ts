import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export type { Database } from "better-sqlite3";

/**
 * Opens (creating if needed) a service's own SQLite database and brings its schema up to date.
 *
 * `migrations` is the service's schema history, oldest first; each entry runs once, in a transaction,
 * and SQLite's `user_version` records how many have run. WAL mode lets readers run beside the one
 * writer; `synchronous = NORMAL` in WAL mode keeps every committed transaction across a process crash
 * (SIGKILL), which is the failure the saga tests inflict — only a power cut could lose the last commits.
 */
export function openDatabase(file: string, migrations: readonly string[]): Database.Database {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db, migrations);
  return db;
}

function migrate(db: Database.Database, migrations: readonly string[]): void {
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
