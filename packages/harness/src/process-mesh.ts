// The mesh as `make up` runs it — every service its own OS process — so that tests can do to a service
// what happens to real ones: SIGKILL it mid-saga, restart it on the same port and database, run two of
// it side by side. Compare in-process-mesh.ts, which runs the services in the test's own process.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningCourier } from "@ftgo/courier";
import { type CourierTerms, SERVICE_NAMES, type ServiceName } from "@ftgo/platform/roster";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { waitUntilReady } from "./readiness.js";
import { describeExit, type ExitStatus, startServiceProcess } from "./service-process.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Lines of output kept per process, quoted when a test fails. */
const TAIL_LINES = 200;
/** Only these reach a service: the test runner's own variables (NODE_OPTIONS, VITEST_*) must not. */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"] as const;

export interface ServiceProcessOptions {
  readonly name: ServiceName;
  readonly dataDir: string;
  readonly natsUrl: string;
  /** Default: a free one, kept across restart(). */
  readonly port?: number;
  /** Told apart in labels ("kitchen#2") when a service runs more than once. Default 1. */
  readonly instance?: number;
  /** FTGO_PARTITIONS. Default 4, the services' own default. */
  readonly partitions?: number;
  /** Anything else the service reads, such as REGISTRY_TTL_MS or KITCHEN_BREAKER_FAILURES. */
  readonly env?: Readonly<Record<string, string>>;
}

/** One running service process. */
export interface ServiceInstance {
  readonly name: ServiceName;
  /** "order", or "kitchen#2" for a second instance. */
  readonly label: string;
  readonly port: number;
  /** "127.0.0.1:port", stable across restart(). */
  readonly address: string;
  /** The current process id; restart() changes it. */
  readonly pid: number | undefined;
  /** False between a kill and the restart. */
  readonly running: boolean;
  /** Exits nobody asked for (a crash, not a kill() or stop()), each described ("exited with code 1"). */
  readonly crashes: readonly string[];
  /**
   * Sends `signal` (default SIGKILL). For a signal that ends the process, resolves once it has exited;
   * SIGSTOP/SIGCONT resolve at once.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (after kill(), or stopping it first) with the same port, env and data dir; waits for SERVING. */
  restart(): Promise<void>;
  /** SIGTERM, then waits for the graceful shutdown (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** The last lines it wrote, across restarts. */
  output(): string;
}

/** Every process started here and still running: killed with this process, whatever ends it. */
const live = new Set<number>();
process.on("exit", () => {
  for (const pid of live) send(pid, "SIGKILL");
});

/** process.kill, except that a process which has just exited (its exit not yet reported) is no error. */
function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/**
 * Starts one service as `make up` does — `node --import tsx services/<name>/src/main.ts` with PORT,
 * DATA_DIR, NATS_URL, LOG_LEVEL=warn — and resolves once `grpc.health.v1.Health/Check` answers SERVING.
 * Rejects with the process's output if it exits or does not become ready within 30 s.
 */
export async function startService(options: ServiceProcessOptions): Promise<ServiceInstance> {
  const { name, instance = 1 } = options;
  const label = instance === 1 ? name : `${name}#${instance}`;
  const port = options.port ?? (await freePort());
  const address = `${HOST}:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(INHERITED_ENV.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : []))),
    FTGO_HOST: HOST,
    PORT: String(port),
    DATA_DIR: options.dataDir,
    NATS_URL: options.natsUrl,
    LOG_LEVEL: "warn",
    FTGO_PARTITIONS: String(options.partitions ?? 4),
    ...options.env,
  };
  const tail: string[] = [];
  const remember = (line: string) => {
    if (tail.push(line) > TAIL_LINES) tail.shift();
  };
  const crashes: string[] = [];
  let current: { pid: number | undefined; exited: Promise<ExitStatus>; expected: boolean } | undefined;

  const launch = async () => {
    const child = startServiceProcess({
      name: label,
      command: process.execPath,
      args: ["--import", "tsx", join("services", name, "src", "main.ts")],
      cwd: ROOT,
      env,
      onLine: remember,
    });
    const running = { pid: child.pid, exited: child.exited, expected: false };
    current = running;
    if (child.pid !== undefined) live.add(child.pid);
    void child.exited.then((status) => {
      if (child.pid !== undefined) live.delete(child.pid);
      const how = describeExit(status);
      remember(`── ${label} (pid ${child.pid}) ${how} ──`);
      if (!running.expected) crashes.push(how);
    });
    const exitedEarly = child.exited.then((status) => {
      throw new Error(`it ${describeExit(status)} before it was ready`);
    });
    exitedEarly.catch(() => {}); // raced below; after start-up an exit is a crash, recorded above
    const ready = new AbortController();
    try {
      await Promise.race([waitUntilReady(address, { timeoutMs: READY_TIMEOUT_MS, signal: ready.signal }), exitedEarly]);
    } catch (err) {
      ready.abort();
      await terminate("SIGKILL");
      throw new Error(`${label} did not start: ${(err as Error).message}\n${tail.join("\n")}`, { cause: err });
    }
  };

  const terminate = async (signal: NodeJS.Signals, graceMs = STOP_GRACE_MS) => {
    const running = current;
    const pid = running?.pid;
    if (!running || pid === undefined || !live.has(pid)) return;
    running.expected = true;
    send(pid, signal);
    send(pid, "SIGCONT"); // a process a test froze with SIGSTOP cannot act on SIGTERM
    const escalate = setTimeout(() => live.has(pid) && send(pid, "SIGKILL"), graceMs);
    await running.exited;
    clearTimeout(escalate);
  };

  await launch();
  return {
    name,
    label,
    port,
    address,
    get pid() {
      return current?.pid;
    },
    get running() {
      return current?.pid !== undefined && live.has(current.pid);
    },
    crashes,
    async kill(signal = "SIGKILL") {
      if (signal === "SIGSTOP" || signal === "SIGCONT") {
        if (current?.pid !== undefined && live.has(current.pid)) send(current.pid, signal);
        return;
      }
      await terminate(signal);
    },
    async restart() {
      await terminate("SIGTERM");
      remember(`── ${label} restarting ──`);
      await launch();
    },
    stop: () => terminate("SIGTERM"),
    output: () => tail.join("\n"),
  };
}

export interface ProcessMeshOptions {
  /** How many processes of each service; 1 unless given. They share the service's database (its data dir). */
  readonly instances?: Partial<Record<ServiceName, number>>;
  /** FTGO_PARTITIONS for every service. Default 4. */
  readonly partitions?: number;
  /** More environment for every service: SAGA_MODE, say. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Couriers to answer Delivery's quote requests, started in this process once the services are up (as
   * test-couriers.ts does) and stopped with the mesh. None unless given: no delivery gets a courier.
   */
  readonly couriers?: readonly CourierTerms[];
}

/** A whole mesh of service processes with a nats-server of its own and a temp data dir. */
export interface ProcessMesh {
  readonly nats: NatsServerHandle;
  /** Every service's SQLite file lives here: `<dataDir>/<service>.db`. */
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
  /** The service's database file, for read-only audits. */
  dbFile(name: ServiceName): string;
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
  const nats = await startNatsServer().catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const instances = Object.fromEntries(SERVICE_NAMES.map((name) => [name, [] as ServiceInstance[]])) as Record<
    ServiceName,
    ServiceInstance[]
  >;
  const all = () => SERVICE_NAMES.flatMap((name) => instances[name]);
  const couriers: RunningCourier[] = [];
  const stop = async () => {
    await Promise.allSettled(couriers.map((courier) => courier.stop()));
    await Promise.allSettled(all().map((service) => service.stop()));
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const start = async (name: ServiceName, instance: number, port?: number) => {
      const started = await startService({
        name,
        instance,
        dataDir,
        natsUrl: nats.url,
        partitions,
        port,
        env: options.env,
      });
      instances[name].push(started);
    };
    await Promise.all(SERVICE_NAMES.map((name) => start(name, 1)));
    await Promise.all(
      SERVICE_NAMES.flatMap((name) =>
        Array.from({ length: (options.instances?.[name] ?? 1) - 1 }, (_, i) => start(name, i + 2)),
      ),
    );
    if (options.couriers?.length) {
      // Loaded only when asked for: the courier is service code, and the benchmark imports this file.
      const { startTestCourier } = await import("./test-couriers.js");
      for (const terms of options.couriers) couriers.push(await startTestCourier(nats.url, terms));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const first = (name: ServiceName) => instances[name][0] as ServiceInstance;
  return {
    nats,
    dataDir,
    partitions,
    order: first("order"),
    consumer: first("consumer"),
    kitchen: first("kitchen"),
    accounting: first("accounting"),
    delivery: first("delivery"),
    instances,
    couriers,
    dbFile: (name) => join(dataDir, `${name}.db`),
    crashes: () => all().flatMap((service) => service.crashes.map((how) => `${service.label}: ${how}`)),
    output: () =>
      all()
        .map((service) => `── ${service.label} ──\n${service.output()}`)
        .join("\n"),
    stop,
  };
}

/** A port nothing listens on right now (the kernel's pick), for a service that must keep it across restarts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
