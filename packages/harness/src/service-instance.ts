// One service of the mesh as `make up` runs it — its own OS process — so that a test can do to it what
// happens to real ones: SIGKILL it mid-saga, restart it on the same port and database, run two side by side.
import { fileURLToPath } from "node:url";
import type { ServiceName } from "@ftgo/platform/roster";
import { freePort } from "@ftgo/platform/testing";
import { isTracked, sendSignal } from "./child-processes.js";
import { progressOf } from "./process-progress.js";
import { type HealthProbe, waitUntilReady } from "./readiness.js";
import { builtServices, bundleCommand, type ProgramCommand } from "./service-build.js";
import { describeExit, type ExitStatus, startServiceProcess } from "./service-process.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const HOST = "127.0.0.1";
const STOP_GRACE_MS = 10_000;
/** Lines of output kept per process, quoted when a test fails. */
const TAIL_LINES = 200;
/** Only these reach a service: the test runner's own variables (NODE_OPTIONS, VITEST_*) must not. */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"] as const;

/** What can run as a service process: the roster's TypeScript services, and the Go Loyalty service. */
export type ProcessName = ServiceName | "loyalty";

export interface StartServiceOptions {
  /** A gRPC service, or the gateway (HTTP: give it `probe: "tcp"`). */
  readonly name: ProcessName | "gateway";
  /**
   * The program to run instead of the service's bundle (`node node_modules/.cache/ftgo-services/<name>/main.mjs`):
   * a built Go binary, say (loyalty-process.ts), or `node --import tsx` on its sources (the start-up benchmark's
   * baseline). Run from the repository root with the same environment.
   */
  readonly program?: { readonly file: string; readonly args?: readonly string[] };
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
  /** How it shows it is ready: gRPC health (default), or, for the gateway (HTTP), accepting connections. */
  readonly probe?: HealthProbe;
  /** Abandons the start: the process is killed and startService rejects (a sibling's start failed, say). */
  readonly signal?: AbortSignal;
}

/** One running service process. */
export interface ServiceInstance {
  readonly name: ProcessName | "gateway";
  /** "order", or "kitchen#2" for a second instance. */
  readonly label: string;
  readonly port: number;
  /** "127.0.0.1:port", stable across restart(). */
  readonly address: string;
  /** The current process id; restart() changes it. */
  readonly pid: number | undefined;
  /** How long its last start took, from spawning the process to SERVING, in ms. */
  readonly readyMs: number;
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

/**
 * Starts one service as `make up` does — `node node_modules/.cache/ftgo-services/<name>/main.mjs`, the bundle
 * built from its sources (service-build.ts; built first if stale) — with PORT, DATA_DIR, NATS_URL,
 * LOG_LEVEL=warn, and resolves once `grpc.health.v1.Health/Check` answers SERVING (or, with `probe: "tcp"`, once
 * its port accepts connections).
 * It waits as long as the process makes progress (CPU time, output), up to a cap (readiness.ts); it
 * rejects with the process's output at once if the process exits, and kills it if it stalls, reaches the
 * cap or `signal` aborts: a start that fails leaves no process behind.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceInstance> {
  const { name, instance = 1 } = options;
  const label = instance === 1 ? name : `${name}#${instance}`;
  if (!options.program) await builtServices();
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
  let linesWritten = 0;
  const remember = (line: string) => {
    linesWritten++;
    if (tail.push(line) > TAIL_LINES) tail.shift();
  };
  const crashes: string[] = [];
  let current: { pid: number | undefined; exited: Promise<ExitStatus>; expected: boolean } | undefined;
  let readyMs = Number.NaN;

  const launch = async (signal?: AbortSignal) => {
    if (signal?.aborted) throw abandoned(signal);
    const spawnedAt = performance.now();
    const run: ProgramCommand = options.program
      ? { command: options.program.file, args: [...(options.program.args ?? [])], env: {} }
      : bundleCommand(name, ROOT);
    const child = startServiceProcess({
      name: label,
      command: run.command,
      args: run.args,
      cwd: ROOT,
      env: { ...run.env, ...env },
      onLine: remember,
    });
    const running = { pid: child.pid, exited: child.exited, expected: false };
    current = running;
    void child.exited.then((status) => {
      const how = describeExit(status);
      remember(`── ${label} (pid ${child.pid}) ${how} ──`);
      if (!running.expected) crashes.push(how);
    });
    const exitedEarly = child.exited.then((status) => {
      throw new Error(`it ${describeExit(status)} before it was ready`);
    });
    exitedEarly.catch(() => {}); // raced below; after start-up an exit is a crash, recorded above
    const ready = new AbortController();
    const abandon = () => ready.abort(signal?.reason);
    signal?.addEventListener("abort", abandon, { once: true });
    if (signal?.aborted) abandon(); // while it was being spawned
    try {
      const progress = progressOf(child.pid, () => linesWritten);
      await Promise.race([
        waitUntilReady(address, { probe: options.probe, progress, signal: ready.signal }),
        exitedEarly,
      ]);
      readyMs = performance.now() - spawnedAt;
    } catch (err) {
      ready.abort();
      await terminate("SIGKILL");
      if (signal?.aborted) throw abandoned(signal);
      throw new Error(`${label} did not start: ${(err as Error).message}\n${tail.join("\n")}`, { cause: err });
    } finally {
      signal?.removeEventListener("abort", abandon);
    }
  };

  const abandoned = (signal: AbortSignal) =>
    new StartAbandonedError(`${label} did not start: abandoned (${describeReason(signal.reason)})`);

  const terminate = async (signal: NodeJS.Signals, graceMs = STOP_GRACE_MS) => {
    const running = current;
    const pid = running?.pid;
    if (!running || pid === undefined || !isTracked(pid)) return;
    running.expected = true;
    sendSignal(pid, signal);
    sendSignal(pid, "SIGCONT"); // a process a test froze with SIGSTOP cannot act on SIGTERM
    const escalate = setTimeout(() => isTracked(pid) && sendSignal(pid, "SIGKILL"), graceMs);
    await running.exited;
    clearTimeout(escalate);
  };

  await launch(options.signal);
  return {
    name,
    label,
    port,
    address,
    get pid() {
      return current?.pid;
    },
    get readyMs() {
      return readyMs;
    },
    get running() {
      return current?.pid !== undefined && isTracked(current.pid);
    },
    crashes,
    async kill(signal = "SIGKILL") {
      if (signal === "SIGSTOP" || signal === "SIGCONT") {
        if (current?.pid !== undefined && isTracked(current.pid)) sendSignal(current.pid, signal);
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

/** A start given up on from outside (its signal aborted), not one that failed by itself. */
export class StartAbandonedError extends Error {
  override readonly name = "StartAbandonedError";
}

/** A port nothing listens on right now, for a service that must keep it across restarts (free-port.ts). */
export { freePort };

function describeReason(reason: unknown): string {
  return reason instanceof Error ? (reason.message.split("\n")[0] ?? "") : String(reason);
}
