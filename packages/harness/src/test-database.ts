// Which engine the services of a test mesh keep their data in. SQLite unless FTGO_TEST_DATABASE=postgres:
// the saga and chaos suites run once per engine (vitest.config.ts), each mesh then with a PostgreSQL server
// of its own, as it has a nats-server of its own.
import { join } from "node:path";
import type { DatabaseLocation, Engine } from "@ftgo/platform";
import { startPostgresServer } from "@ftgo/platform/testing";

/** The engine the tests run on: FTGO_TEST_DATABASE, "sqlite" (default) or "postgres". */
export function testDatabaseEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  const engine = env.FTGO_TEST_DATABASE?.trim() || "sqlite";
  if (engine !== "sqlite" && engine !== "postgres") {
    throw new Error(`FTGO_TEST_DATABASE must be sqlite or postgres, not ${JSON.stringify(engine)}`);
  }
  return engine;
}

/**
 * The services' data of one mesh: files in its data dir, or schemas of its own PostgreSQL server. Both meshes
 * (in-process-mesh.ts, process-mesh.ts) expose it as `database`; the mesh stops it.
 */
export interface MeshDatabase {
  /** The engine the services keep their data in. */
  readonly engine: Engine;
  /** What every service's environment needs (one started beside the mesh too): DATABASE_URL on PostgreSQL. */
  readonly env: Readonly<Record<string, string>>;
  /** The PostgreSQL server's process (its backends are its children); undefined on SQLite. */
  readonly pid: number | undefined;
  /** Where `service` keeps its data, for audits (openExistingDatabase) on either engine. */
  location(service: string): DatabaseLocation;
}

/** A mesh's database as its mesh holds it: the one that stops it. */
export interface StartedMeshDatabase extends MeshDatabase {
  stop(): Promise<void>;
}

/** Starts what `engine` needs for a mesh whose SQLite files would be in `dataDir`. */
export async function startMeshDatabase(engine: Engine, dataDir: string): Promise<StartedMeshDatabase> {
  if (engine === "sqlite") {
    return {
      engine,
      env: {},
      pid: undefined,
      location: (service) => ({ engine, file: join(dataDir, `${service}.db`) }),
      stop: async () => {},
    };
  }
  const server = await startPostgresServer();
  return {
    engine,
    env: { DATABASE_URL: server.url },
    pid: server.pid,
    location: (service) => ({ engine, url: server.url, schema: service }),
    stop: () => server.stop(),
  };
}
