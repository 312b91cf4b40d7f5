// The fixture of every test that runs whole sagas on a process mesh: the mesh, clients of its services, its
// saga databases (and a NATS connection), opened before the scope's tests and closed after them.
import { natsServers } from "@ftgo/platform";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { type MeshClients, meshClients } from "./mesh-clients.js";
import { type ProcessMesh, type ProcessMeshOptions, startProcessMesh } from "./process-mesh.js";
import { PROGRESS_CAP_MS } from "./readiness.js";

/**
 * How long the fixture's hooks may take: a start that keeps progressing may take up to the readiness cap
 * (twice: second instances start after the first ones), and the hook must not give up before the start does.
 */
export const MESH_HOOK_TIMEOUT_MS = 2 * PROGRESS_CAP_MS + 30_000;

import { openSagaDatabases, type SagaDatabases } from "./saga-audit.js";

export interface SagaMeshFixtureOptions {
  /** Also open `nc`, a NATS connection to the mesh's broker, once the mesh is up. Off unless given. */
  readonly nats?: boolean;
}

/** What a test of whole sagas needs, live between the scope's beforeAll and afterAll. */
export interface SagaMeshFixture {
  readonly mesh: ProcessMesh;
  readonly clients: MeshClients;
  readonly dbs: SagaDatabases;
  /** Only with `{ nats: true }`. */
  readonly nc: NatsConnection;
}

/**
 * Registers, in the calling describe (or file) scope, a beforeAll that starts a process mesh and opens
 * clients of its services and its saga databases (and `nc` with `{ nats: true }`), and an afterAll that
 * closes them in reverse and stops the mesh. Read them through the returned getters inside hooks and tests
 * (`const { mesh, clients, dbs } = fixture;`), never at collection time: they throw until beforeAll has run.
 * Hooks the caller registers after this one see the mesh in beforeAll and, as vitest runs after-hooks in
 * reverse (`sequence.hooks: "stack"`), run their afterAll while it is still up.
 */
export function useSagaMesh(
  options: ProcessMeshOptions = {},
  { nats = false }: SagaMeshFixtureOptions = {},
): SagaMeshFixture {
  let mesh: ProcessMesh | undefined;
  let clients: MeshClients | undefined;
  let dbs: SagaDatabases | undefined;
  let nc: NatsConnection | undefined;
  // If beforeAll gives up (its hook timed out) while the mesh is still starting, afterAll abandons the
  // start and waits for it to stop what it started: no process outlives the scope.
  const starting = new AbortController();
  let start: Promise<ProcessMesh> | undefined;

  beforeAll(async () => {
    start = startProcessMesh({ ...options, signal: starting.signal });
    mesh = await start;
    clients = meshClients(mesh);
    dbs = openSagaDatabases(mesh.database.location);
    if (nats) nc = await connect({ servers: natsServers(mesh.natsUrl) });
  }, MESH_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    starting.abort(new Error("the scope ended before the mesh had started"));
    await start?.catch(() => undefined);
    await nc?.close();
    clients?.close();
    dbs?.close();
    await mesh?.stop();
  }, 60_000);

  return {
    get mesh() {
      return started("mesh", mesh);
    },
    get clients() {
      return started("clients", clients);
    },
    get dbs() {
      return started("dbs", dbs);
    },
    get nc() {
      if (!nats) throw new Error("useSagaMesh: no nc: it is opened only with { nats: true }");
      return started("nc", nc);
    },
  };
}

function started<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new Error(`useSagaMesh: no ${name}: read before beforeAll ran, or it failed`);
  return value;
}
