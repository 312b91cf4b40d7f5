// The child-process bookkeeping every server the tests and `make up` start shares (nats-server.ts,
// nats-cluster.ts, postgres-server.ts): its output read line by line and its last lines kept for an error
// message, how it ended, and a hook that kills it should this process exit first, so that a crashed test run
// leaves no server behind.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** How many of its last lines a server keeps, to quote when it fails. */
const TAIL_LINES = 20;

export interface SpawnServerOptions {
  /**
   * Run the server in its own process group, so that a terminal's Ctrl-C reaches it only through
   * stopProcess(): `make up` keeps NATS and PostgreSQL alive while the services drain into them. Default false.
   */
  readonly detached?: boolean;
  /** Receives every line the server logs, on stdout or stderr. */
  readonly onLog?: (line: string) => void;
  /** Called when the server exits while `expectExit` is false: by itself or by a signal nobody announced. */
  readonly onCrash?: (how: string) => void;
  /** The user and group to run it as (root hands PostgreSQL to `postgres`). Default: this process's. */
  readonly runAs?: { readonly uid: number; readonly gid: number };
}

/** One server process as spawnServer started it. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** Its process id; -1 when it could not be spawned at all (the spawn error is then how it `exited`). */
  readonly pid: number;
  /** Resolves with how the process ended ("code 1", "SIGKILL", a spawn error). */
  readonly exited: Promise<string>;
  /** The last lines it logged. */
  readonly tail: string[];
  /** An exit now is no crash: start-up reports its own failures, and stop() asked for it. */
  expectExit: boolean;
}

/** Servers still running when this process exits (a test run that crashed, say) are killed, not orphaned. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Spawns `bin` with `args`, remembering its last lines; killed if this process exits first. */
export function spawnServer(bin: string, args: string[], options: SpawnServerOptions): ServerProcess {
  if (!exitHookInstalled) {
    process.on("exit", () => {
      for (const child of live) child.kill("SIGKILL");
    });
    exitHookInstalled = true;
  }
  const child = spawn(bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
    ...options.runAs,
  });
  live.add(child);
  const tail: string[] = [];
  const onLine = (line: string) => {
    if (tail.push(line) > TAIL_LINES) tail.shift();
    options.onLog?.(line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
  if (child.stderr) createInterface({ input: child.stderr }).on("line", onLine);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`));
    child.once("error", (err) => resolve(err.message));
  }).finally(() => live.delete(child));
  const server = { child, pid: child.pid ?? -1, exited, tail, expectExit: true };
  exited.then((how) => {
    if (!server.expectExit) options.onCrash?.(how);
  });
  return server;
}

/**
 * Asks the server to stop with `signal` (SIGTERM unless the server wants another: PostgreSQL's fast shutdown is
 * SIGINT), and SIGCONT in case it is frozen; SIGKILL after `graceMs`. Resolves once it has exited.
 */
export async function stopProcess(
  server: ServerProcess,
  graceMs: number,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  server.expectExit = true;
  server.child.kill(signal); // a no-op once the process has exited
  server.child.kill("SIGCONT"); // in case a test froze it with kill("SIGSTOP")
  const escalate = setTimeout(() => server.child.kill("SIGKILL"), graceMs);
  await server.exited;
  clearTimeout(escalate);
}
