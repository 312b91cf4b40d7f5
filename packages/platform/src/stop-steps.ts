// Stopping a service is a sequence of steps that each release something: the registry entry, the
// consumers, the server's port, the outbox's last rows, the NATS connection, the database. One that fails
// must not keep the others from running: a registry that is gone would otherwise leave the port bound,
// the outbox unflushed and the database open. So every step runs, in order, whatever the ones before it
// did, and the failures are reported together at the end.
import type { Logger } from "./log.js";

/** One step of a stop: what it does, in words an operator reads in the log, and the doing. */
export type StopStep = readonly [what: string, run: () => unknown];

/** Some steps of a stop failed; the others ran. `errors` holds each failure, its step in `steps`. */
export class ShutdownError extends AggregateError {
  override readonly name = "ShutdownError";
  constructor(
    errors: readonly unknown[],
    /** The failed steps, in the order they ran. */
    readonly steps: readonly string[],
  ) {
    super(errors, `shutdown finished with ${errors.length} ${errors.length === 1 ? "error" : "errors"}`);
  }
}

/**
 * Runs every step in order, each awaited and each guarded: a failed step is logged (one line naming it)
 * and the next one runs. Resolves when all succeeded; otherwise rejects, after the last step, with a
 * ShutdownError carrying every failure.
 */
export async function runStopSteps(log: Logger, steps: readonly StopStep[]): Promise<void> {
  const errors: unknown[] = [];
  const failed: string[] = [];
  for (const [what, run] of steps) {
    try {
      await run();
    } catch (err) {
      log.error({ err, step: what }, `shutdown step failed: ${what}; going on with the next`);
      errors.push(err);
      failed.push(what);
    }
  }
  if (errors.length > 0) throw new ShutdownError(errors, failed);
}
