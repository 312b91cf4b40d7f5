/*
 * Tearing down what a suite started, in the one order that is always safe: last started, first stopped.
 * Every step runs even after one fails, so a failed teardown leaves no other process behind.
 */

export interface CleanupStack {
  /** Adds the stop of something just started. */
  push(cleanup: () => Promise<void>): void;
  /** Runs every cleanup, last first, even after a failure; the first error is thrown at the end. */
  close(): Promise<void>;
}

export function cleanupStack(): CleanupStack {
  const cleanups: (() => Promise<void>)[] = [];
  return {
    push: (cleanup) => {
      cleanups.push(cleanup);
    },
    async close() {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err: unknown) => errors.push(err));
      if (errors.length > 0) throw errors[0];
    },
  };
}
