import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** A server running in a child process, as started by `startServerChild`. */
export interface ServerChild {
  readonly pid: number;
  /** The port the child printed once it was listening. */
  readonly port: number;
  /** SIGTERM, then SIGKILL if it has not exited after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface ServerChildOptions {
  readonly startTimeoutMs?: number;
  readonly stopGraceMs?: number;
}

/** Every child started and not yet exited, so that `killServerChildren` can reach them on any exit path. */
const running = new Set<ChildProcess>();

/**
 * Runs `script` (TypeScript, through tsx) in its own Node process and waits for the port it prints as
 * its first stdout line. A server in its own process has its own event loop, as a real service does,
 * so the client's work and the server's work do not queue behind each other. The IPC channel that
 * `fork` opens is not used for messages: a child exits when it closes, so even a parent killed with
 * SIGKILL leaves no server behind.
 */
export async function startServerChild(
  script: string,
  args: readonly string[],
  options: ServerChildOptions = {},
): Promise<ServerChild> {
  const { pid, firstLine, stop } = await startChild(script, args, options);
  const port = Number(firstLine);
  if (Number.isInteger(port) && port > 0) return { pid, port, stop };
  await stop();
  throw new Error(`server child printed ${JSON.stringify(firstLine)} where a port was expected`);
}

/** A child that listens on no port (a message consumer, say), as started by `startWorkerChild`. */
export type WorkerChild = Omit<ServerChild, "port">;

/**
 * Runs `script` like `startServerChild`, for a child that serves no port: it is ready once it prints
 * `ready` as its first stdout line.
 */
export async function startWorkerChild(
  script: string,
  args: readonly string[],
  options: ServerChildOptions = {},
): Promise<WorkerChild> {
  const { pid, firstLine, stop } = await startChild(script, args, options);
  if (firstLine === "ready") return { pid, stop };
  await stop();
  throw new Error(`child printed ${JSON.stringify(firstLine)} where "ready" was expected`);
}

async function startChild(
  script: string,
  args: readonly string[],
  { startTimeoutMs = 20_000, stopGraceMs = 5_000 }: ServerChildOptions,
): Promise<{ pid: number; firstLine: string; stop: () => Promise<void> }> {
  const child = fork(script, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "inherit", "ipc"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const stop = () => stopChild(child, stopGraceMs);
  try {
    const firstLine = await readFirstLine(child, startTimeoutMs);
    return { pid: child.pid as number, firstLine, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Kills every child still running, at once and synchronously: the last resort for an exit, an
 * uncaught error or Ctrl-C, when there is no time left to stop them one by one.
 */
export function killServerChildren(): void {
  for (const child of running) child.kill("SIGKILL");
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The child's first stdout line; any later lines are passed on to stderr, tagged with its pid. */
function readFirstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      lines.on("line", (line) => process.stderr.write(`[child ${child.pid}] ${line}\n`));
      outcome();
    };
    const onExit = (code: number | null, signal: string | null) =>
      settle(() => reject(new Error(`child exited (${signal ?? code}) before printing its first line`)));
    const timer = setTimeout(
      () => settle(() => reject(new Error(`child printed nothing within ${timeoutMs} ms`))),
      timeoutMs,
    );
    child.once("exit", onExit);
    lines.once("line", (line) => settle(() => resolve(line)));
  });
}
