import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { trackChild, untrackChild } from "./child-processes.js";

export interface ServiceProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Every line the process writes, stdout and stderr alike. */
  readonly onLine: (line: string) => void;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  readonly error?: Error;
}

export interface StopOptions {
  /** SIGKILL after this long. Default 10 s. */
  readonly graceMs?: number;
  /**
   * The process has been signalled already: Ctrl-C in a terminal reaches the whole foreground process
   * group, children included. Do not signal it again at once (a second signal makes a service skip its
   * graceful shutdown); send SIGTERM only if it is still running halfway through the grace period.
   */
  readonly alreadySignalled?: boolean;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** True once stop() was called: an exit before that is a crash. */
  readonly stopping: boolean;
  /** Resolves once the process has exited and its output has been read to the end; never rejects. */
  readonly exited: Promise<ExitStatus>;
  /**
   * Asks the process to stop (SIGTERM), waits for it, and kills it (SIGKILL) if it outlives the grace
   * period. `forced` says whether it came to that.
   */
  stop(options?: StopOptions): Promise<{ status: ExitStatus; forced: boolean }>;
}

/**
 * Starts one service as a child process in this process's group (`detached: false`), its output
 * delivered line by line. The child is not unref'd: the parent stays alive while it runs, and it is in
 * the harness's register of children (child-processes.ts) until it exits, so that it gets SIGKILL if
 * this process exits first.
 */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  const { pid } = child;
  if (pid !== undefined) trackChild({ pid, label: options.name });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", options.onLine);
  }
  // "close", not "exit": it comes after the last line of output, so a crash's stack trace is printed
  // before the crash is reported.
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
  });
  void exited.then(() => pid !== undefined && untrackChild(pid));

  let stopping = false;
  return {
    name: options.name,
    pid: child.pid,
    get stopping() {
      return stopping;
    },
    exited,
    async stop({ graceMs = 10_000, alreadySignalled = false } = {}) {
      stopping = true;
      if (!alreadySignalled) child.kill("SIGTERM"); // kill() is a no-op once the child has exited
      let forced = false;
      const timers = [
        alreadySignalled ? setTimeout(() => child.kill("SIGTERM"), graceMs / 2) : undefined,
        setTimeout(() => {
          forced = true;
          child.kill("SIGKILL");
        }, graceMs),
      ];
      const status = await exited;
      for (const timer of timers) clearTimeout(timer);
      return { status, forced };
    },
  };
}

/** "exited with code 1", "was killed by SIGKILL", "could not start: spawn node ENOENT". */
export function describeExit({ code, signal, error }: ExitStatus): string {
  if (error) return `could not start: ${error.message}`;
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}
