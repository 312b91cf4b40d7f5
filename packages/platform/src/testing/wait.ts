import { setTimeout as sleep } from "node:timers/promises";

export interface WaitForOptions {
  /** Give up after this long. Default 5 s. */
  readonly timeoutMs?: number;
  /** Pause between two probes. Default 50 ms. */
  readonly intervalMs?: number;
  /** What was awaited, for the timeout error: "order to report SERVING". A function is read only on timeout. */
  readonly message?: string | (() => string);
  /** Stops waiting early: waitFor rejects once it is aborted. */
  readonly signal?: AbortSignal;
}

/** The values `if (value)` lets through. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/** Thrown by waitFor when the deadline passes; `cause` is the probe's last error, if it threw. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
}

/**
 * Calls `probe` until it returns (or resolves to) a truthy value, and resolves with that value. A probe
 * that throws counts as "not yet"; its last error is named in the timeout error. Tests and scripts use
 * this instead of sleeping: it returns as soon as the condition holds, and fails with a message saying
 * what never happened. The deadline is checked between probes, so a probe must bound its own time
 * (a connect timeout, a call deadline).
 *
 * ```ts
 * const info = await waitFor(() => store.findOrder(orderId)?.state === "APPROVED", { message: "order approved" });
 * ```
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitForOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 5_000, intervalMs = 50, message = "condition", signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value) return value as Truthy<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const what = typeof message === "function" ? message() : message;
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new WaitTimeoutError(`${what}: not within ${timeoutMs} ms${last}`, { cause: lastError });
    }
    await sleep(Math.min(intervalMs, left), undefined, { signal });
  }
}
