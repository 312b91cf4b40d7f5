// A server program the harness runs beside the services (the Consul agent, Traefik): spawned, tracked
// (child-processes.ts) so that it never outlives the process that started it, its last lines kept for a
// failure message, and ready once a probe says so. A start that fails kills it before it rethrows.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { waitFor } from "@ftgo/platform/testing";
import { sendSignal, trackChild, untrackChild } from "./child-processes.js";

export interface ToolProcessOptions {
  /** What it is, in messages and the child register: "consul", "traefik". */
  readonly label: string;
  readonly bin: string;
  readonly args: readonly string[];
  /** Its own process group, so that a terminal's Ctrl-C reaches it only through stop(). Default false. */
  readonly detached?: boolean;
  /** Every line it writes. The last ones are quoted if start-up fails. */
  readonly onLog?: (line: string) => void;
  /** Called when it exits other than through stop(). */
  readonly onCrash?: (how: string) => void;
  /** True once it is ready; polled every 100 ms. */
  readonly ready: () => Promise<boolean>;
  /** What it is waiting for, for the timeout's message: "to answer /ping". */
  readonly readyWhat: string;
  /** Default 60 s (a loaded two-core machine). */
  readonly startTimeoutMs?: number;
  /** Runs after it has exited through stop(): removing its temp dirs, say. */
  readonly afterStop?: () => Promise<void>;
}

export interface ToolProcess {
  readonly pid: number;
  /** SIGTERM (SIGKILL after the grace period, default 10 s), waits for the exit, then `afterStop`. */
  stop(graceMs?: number): Promise<void>;
  /** A signal and nothing else, for fault injection. */
  kill(signal: NodeJS.Signals): void;
}

/** Spawns the program and resolves once `ready` says so; rejects (having stopped it) if it exits or times out. */
export async function startToolProcess(options: ToolProcessOptions): Promise<ToolProcess> {
  const { label } = options;
  const child = spawn(options.bin, [...options.args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  const pid = child.pid ?? -1;
  if (child.pid !== undefined) trackChild({ pid, label });
  const tail: string[] = [];
  const onLine = (line: string) => {
    if (tail.push(line) > 20) tail.shift();
    options.onLog?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
  }
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once("close", (code, signal) => resolve(signal ?? `code ${code}`));
    child.once("error", (err) => resolve(err.message));
  });
  void exited.then((how) => {
    untrackChild(pid);
    if (!stopping) options.onCrash?.(how);
  });

  const stop = async (graceMs = 10_000) => {
    if (!stopping) {
      stopping = true;
      sendSignal(pid, "SIGTERM");
      const timer = setTimeout(() => sendSignal(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await exited;
    await options.afterStop?.();
  };

  const lastLines = () => `its last lines:\n  ${tail.join("\n  ")}`;
  const died = exited.then((how) => {
    throw new Error(`${label} exited during start-up (${how}); ${lastLines()}`);
  });
  died.catch(() => {});
  try {
    await Promise.race([
      waitFor(options.ready, {
        timeoutMs: options.startTimeoutMs ?? 60_000,
        intervalMs: 100,
        message: () => `${label} ${options.readyWhat}; ${lastLines()}`,
      }),
      died,
    ]);
  } catch (err) {
    await stop(1_000);
    throw err;
  }
  return { pid, stop, kill: (signal) => void sendSignal(pid, signal) };
}
