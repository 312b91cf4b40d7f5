import type { Logger } from "pino";
import { ShutdownError } from "./stop-steps.js";

export interface ShutdownOptions {
  /** How long the whole shutdown may take before the process exits anyway. Default 15 s. */
  readonly timeoutMs?: number;
  /** Signals that start it. Default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
}

/**
 * Runs `stop` once when the process is asked to stop, then exits: 0 when `stop` finished, 1 when it
 * threw or outlived `timeoutMs`. A second Ctrl-C (SIGINT) while stopping exits at once, so a person can
 * always get out; a repeated SIGTERM is ignored, because supervisors and `kill -- -PGID` often deliver
 * it twice and the graceful stop must still happen. `stop` is where a service goes NOT_SERVING, deregisters, stops consuming, drains NATS,
 * finishes in-flight calls and closes its database, in that order (see saga-service.ts); a step that
 * fails does not skip the ones after it, and any failure makes the exit code 1.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, options: ShutdownOptions = {}): void {
  const { timeoutMs = 15_000, signals = ["SIGTERM", "SIGINT"] } = options;
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal !== "SIGINT") return;
      log.warn({ signal }, "second Ctrl-C while stopping: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "stopping");
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, "shutdown took too long: exiting anyway");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        // Each failed step has logged its own line (stop-steps.ts); this one counts them.
        if (err instanceof ShutdownError) log.error({ failedSteps: err.steps }, err.message);
        else log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, handle);
}
