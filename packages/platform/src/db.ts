// A service's own database, on one of two engines: an embedded SQLite file (the default, what `make up`
// runs) or a schema of a PostgreSQL database (DATABASE_URL). Both are driven synchronously, so a store's
// code path is the same on either: a handler's reads, its writes, its outbox rows and its inbox row run
// in one transaction that no other callback of the process can interleave with, as the stores assume.
import { openPostgres } from "./db/postgres.js";
import { openSqlite } from "./db/sqlite.js";
import type { Database, DatabaseLocation } from "./db/types.js";

export type {
  Database,
  DatabaseLocation,
  Engine,
  Params,
  RunResult,
  Statement,
  Transaction,
} from "./db/types.js";
export { MissingDatabaseError } from "./db/types.js";

/**
 * Opens (creating if needed) a service's database and brings its schema up to date. `where` is a file
 * path (SQLite) or a location. `migrations` is the schema's history, oldest first, written once in the
 * SQL both engines read (see db/dialect.ts for the few types PostgreSQL spells differently); each runs
 * once, in a transaction, and the database records how many have run.
 */
export function openDatabase(where: string | DatabaseLocation, migrations: readonly string[]): Database {
  const location: DatabaseLocation = typeof where === "string" ? { engine: "sqlite", file: where } : where;
  return location.engine === "sqlite"
    ? openSqlite(location.file, migrations)
    : openPostgres(location.url, location.schema, migrations);
}

/** Whether the database has a table `name` (on PostgreSQL, in the service's schema). */
export function hasTable(db: Database, name: string): boolean {
  const sql =
    db.engine === "sqlite"
      ? "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
      : "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?";
  return db.prepare(sql).get(name) !== undefined;
}

/**
 * Opens a database a service made, as it is (no migration): for a tool or an audit that reads it, or a
 * test that writes a row the way a service would. `readonly` refuses writes.
 */
export function openExistingDatabase(
  where: string | DatabaseLocation,
  options: { readonly readonly?: boolean } = {},
): Database {
  const location: DatabaseLocation = typeof where === "string" ? { engine: "sqlite", file: where } : where;
  return location.engine === "sqlite"
    ? openSqlite(location.file, undefined, options)
    : openPostgres(location.url, location.schema, undefined, options);
}

/** The location of `service`'s data: its schema when DATABASE_URL names a PostgreSQL database, else `<dataDir>/<service>.db`. */
export function databaseLocation(
  config: { readonly dataDir: string; readonly databaseUrl?: string | undefined },
  service: string,
): DatabaseLocation {
  return config.databaseUrl
    ? { engine: "postgres", url: config.databaseUrl, schema: service }
    : { engine: "sqlite", file: `${config.dataDir}/${service}.db` };
}
