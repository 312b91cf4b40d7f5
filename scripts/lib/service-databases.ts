// The services' own databases, as the command-line tools read them (dead-letters parked, trace): each
// service's SQLite file in DATA_DIR, or its schema of the PostgreSQL database at DATABASE_URL, opened read-only
// so that a tool is safe to run beside the mesh.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Database, databaseLocation, MissingDatabaseError, openExistingDatabase } from "@ftgo/platform";

/** Where the services keep their data: the data dir, and the PostgreSQL database that replaces it when set. */
export interface ServiceDataConfig {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
}

/** Every service's database that was found, by service name; `close()` closes them all. */
export interface ServiceDatabases extends ReadonlyMap<string, Database> {
  close(): void;
}

/** DATA_DIR and DATABASE_URL as scripts/up.ts resolves them: DATA_DIR relative to here, or the repository's data/. */
export function serviceDataFromEnv(env: NodeJS.ProcessEnv): ServiceDataConfig {
  return {
    dataDir: resolve(env.DATA_DIR || fileURLToPath(new URL("../../data", import.meta.url))),
    databaseUrl: env.DATABASE_URL || undefined,
  };
}

/**
 * Opens, read-only, the database of each of `services` that has one. A service whose SQLite file or schema
 * does not exist (it never ran there) is left out; when none of them has one, the data dir or DATABASE_URL is
 * likely the wrong one, and it says so. On any failure it closes what it had opened before rethrowing.
 */
export function openServiceDatabases(config: ServiceDataConfig, services: readonly string[]): ServiceDatabases {
  const databases = new Map<string, Database>();
  const close = () => {
    for (const db of databases.values()) db.close();
  };
  try {
    for (const service of services) {
      const db = openIfThere(config, service);
      if (db) databases.set(service, db);
    }
  } catch (err) {
    close();
    throw err;
  }
  if (databases.size === 0) {
    throw new Error(
      config.databaseUrl
        ? `no service schema (${services.join(", ")}) in the database at DATABASE_URL: is DATABASE_URL right?`
        : `no service database (${services.map((s) => `${s}.db`).join(", ")}) in ${config.dataDir}: is DATA_DIR right?`,
    );
  }
  return Object.assign(databases, { close });
}

function openIfThere(config: ServiceDataConfig, service: string): Database | undefined {
  const where = databaseLocation(config, service);
  if (where.engine === "sqlite" && !existsSync(where.file)) return undefined;
  try {
    return openExistingDatabase(where, { readonly: true });
  } catch (err) {
    if (err instanceof MissingDatabaseError) return undefined; // a service that never ran on this PostgreSQL database
    throw err;
  }
}
