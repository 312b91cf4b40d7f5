// The mesh as `make up` runs it — every service its own OS process (service-instance.ts) — with a
// nats-server of its own. Compare in-process-mesh.ts, which runs the services in the test's own process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningCourier } from "@ftgo/courier";
import type { Engine } from "@ftgo/platform";
import { type CourierTerms, SERVICE_NAMES, type ServiceName } from "@ftgo/platform/roster";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { type ServiceInstance, StartAbandonedError, startService } from "./service-instance.js";
import { type MeshDatabase, type StartedMeshDatabase, startMeshDatabase, testDatabaseEngine } from "./test-database.js";

export interface ProcessMeshOptions {
  /** How many processes of each service; 1 unless given. They share the service's database (its data dir). */
  readonly instances?: Partial<Record<ServiceName, number>>;
  /** FTGO_PARTITIONS for every service. Default 4. */
  readonly partitions?: number;
  /** More environment for every service: SAGA_MODE, say. */
  readonly env?: Readonly<Record<string, string>>;
  /** More environment for one service's processes, over `env`. */
  readonly serviceEnv?: Partial<Record<ServiceName, Readonly<Record<string, string>>>>;
  /** Abandons the start: whatever has started is stopped and startProcessMesh rejects. */
  readonly signal?: AbortSignal;
  /**
   * Couriers to answer Delivery's quote requests, started in this process once the services are up (as
   * test-couriers.ts does) and stopped with the mesh. None unless given: no delivery gets a courier.
   */
  readonly couriers?: readonly CourierTerms[];
  /**
   * A broker the caller runs and stops, e.g. a cluster's URLs comma-separated (startNatsCluster's `url`): the
   * services get it as NATS_URL and the mesh starts no nats-server of its own; `mesh.nats` then throws.
   */
  readonly natsUrl?: string;
  /**
   * Where the services keep their data: SQLite files in the data dir, or a PostgreSQL server the mesh starts
   * (each service its own schema). Default: the run's engine, FTGO_TEST_DATABASE (test-database.ts).
   */
  readonly database?: Engine;
}

/** A whole mesh of service processes with a nats-server of its own and a temp data dir. */
export interface ProcessMesh {
  /** The mesh's own nats-server; throws when the mesh was given a broker (options.natsUrl). */
  readonly nats: NatsServerHandle;
  /** The NATS_URL every service has: the mesh's own server's URL, or options.natsUrl. */
  readonly natsUrl: string;
  /** The services' data dir: on SQLite, every service's file lives here, `<dataDir>/<service>.db`. */
  readonly dataDir: string;
  readonly partitions: number;
  /** The first instance of each service (the one order calls for menus, and the one tests call). */
  readonly order: ServiceInstance;
  readonly consumer: ServiceInstance;
  readonly kitchen: ServiceInstance;
  readonly accounting: ServiceInstance;
  readonly delivery: ServiceInstance;
  /** Every instance of each service. */
  readonly instances: Readonly<Record<ServiceName, readonly ServiceInstance[]>>;
  /** The couriers asked for, in the order given. */
  readonly couriers: readonly RunningCourier[];
  /** Where the services keep their data: files in dataDir, or schemas of a PostgreSQL server of the mesh's own. */
  readonly database: MeshDatabase;
  /** Every crash (an exit no test asked for) so far, as "kitchen#2: exited with code 1". */
  crashes(): string[];
  /** Every process's recent output, for a failure message. */
  output(): string;
  /** Stops the couriers, then every service (SIGTERM, wait), then nats-server; removes the data dir. */
  stop(): Promise<void>;
}

/**
 * Starts a nats-server (random port, temp store) and every service as its own process on a free port,
 * sharing one temp data dir: `instances: { kitchen: 2 }` runs two Kitchen processes on one database,
 * as scaled-out instances of a service do. Order finds the Kitchens through the NATS-KV registry. The first
 * instance of each service starts before any second one, so that only one of them creates the schema.
 * `couriers` adds couriers (in this process) once every service is up: `make up`'s are the roster's `COURIERS`.
 */
export async function startProcessMesh(options: ProcessMeshOptions = {}): Promise<ProcessMesh> {
  const partitions = options.partitions ?? 4;
  const dataDir = mkdtempSync(join(tmpdir(), "ftgo-processes-"));
  let database: StartedMeshDatabase;
  let own: NatsServerHandle | undefined;
  try {
    database = await startMeshDatabase(options.database ?? testDatabaseEngine(), dataDir);
    try {
      own = options.natsUrl === undefined ? await startNatsServer() : undefined;
    } catch (err) {
      await database.stop();
      throw err;
    }
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const natsUrl = own?.url ?? (options.natsUrl as string);
  const instances = Object.fromEntries(SERVICE_NAMES.map((name) => [name, [] as ServiceInstance[]])) as Record<
    ServiceName,
    ServiceInstance[]
  >;
  const all = () => SERVICE_NAMES.flatMap((name) => instances[name]);
  const couriers: RunningCourier[] = [];
  // The first start that fails abandons the others, which kill their process and reject; once every start
  // has settled, stop() stops those that made it. No process is left behind, however the start ends.
  const starting = new AbortController();
  const abandon = () => starting.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", abandon, { once: true });
  const stop = async () => {
    await Promise.allSettled(couriers.map((courier) => courier.stop()));
    await Promise.allSettled(all().map((service) => service.stop()));
    await own?.stop();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const start = async (name: ServiceName, instance: number) => {
      try {
        const env = { ...database.env, ...options.env, ...options.serviceEnv?.[name] };
        const started = await startService({
          name,
          instance,
          dataDir,
          natsUrl,
          partitions,
          env,
          signal: starting.signal,
        });
        instances[name].push(started);
      } catch (err) {
        starting.abort(err);
        throw err;
      }
    };
    await allOrFirstFailure(SERVICE_NAMES.map((name) => start(name, 1)));
    await allOrFirstFailure(
      SERVICE_NAMES.flatMap((name) =>
        Array.from({ length: (options.instances?.[name] ?? 1) - 1 }, (_, i) => start(name, i + 2)),
      ),
    );
    starting.signal.throwIfAborted();
    if (options.couriers?.length) {
      // Loaded only when asked for: the courier is service code, and the benchmark imports this file.
      const { startTestCourier } = await import("./test-couriers.js");
      for (const terms of options.couriers) couriers.push(await startTestCourier(natsUrl, terms));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", abandon);
  }
  const first = (name: ServiceName) => instances[name][0] as ServiceInstance;
  return {
    get nats() {
      if (!own)
        throw new Error("the mesh runs on the caller's broker (options.natsUrl): it has no nats-server of its own");
      return own;
    },
    natsUrl,
    dataDir,
    partitions,
    order: first("order"),
    consumer: first("consumer"),
    kitchen: first("kitchen"),
    accounting: first("accounting"),
    delivery: first("delivery"),
    instances,
    couriers,
    database,
    crashes: () => all().flatMap((service) => service.crashes.map((how) => `${service.label}: ${how}`)),
    output: () =>
      all()
        .map((service) => `── ${service.label} ──\n${service.output()}`)
        .join("\n"),
    stop,
  };
}

/**
 * Waits for every start to settle (never leaving one running unseen), then rejects with the first failure
 * (the cause, not a start abandoned because of it) or resolves.
 */
async function allOrFirstFailure(starts: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(starts);
  const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason as Error] : []));
  const cause = failures.find((err) => !(err instanceof StartAbandonedError)) ?? failures[0];
  if (cause) throw cause;
}
