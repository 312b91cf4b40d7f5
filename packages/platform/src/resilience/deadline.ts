import { Code, ConnectError } from "@connectrpc/connect";
import type { CallContext } from "../grpc/call-context.js";

/**
 * When a call must be over, in epoch milliseconds: `timeoutMs` from now, but never later than the
 * incoming call it works for (deadline propagation: a handler with 300 ms left cannot usefully wait
 * 2 s for its dependency). Infinity when neither sets one.
 */
export function deadlineOf(timeoutMs: number, parent: CallContext | undefined): number {
  const own = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  return Math.min(own, parent?.deadline ?? Number.POSITIVE_INFINITY);
}

/**
 * The timeout to put on one attempt: what remains of the call's deadline, cut to `attemptTimeoutMs`
 * when that is set. 0 means none, as in CallOptions. Throws DEADLINE_EXCEEDED when nothing remains,
 * because a call started with no time left can only fail, after using a connection.
 */
export function timeoutOfAttempt(deadline: number, attemptTimeoutMs: number, what: string): number {
  const now = Date.now();
  const end = Math.min(deadline, attemptTimeoutMs > 0 ? now + attemptTimeoutMs : Number.POSITIVE_INFINITY);
  if (end === Number.POSITIVE_INFINITY) return 0;
  const ms = Math.ceil(end - now);
  if (ms <= 0) throw new ConnectError(`${what}: the deadline passed before the attempt`, Code.DeadlineExceeded);
  return ms;
}

/**
 * Runs `work` and settles no later than `deadline`, or as soon as one of `cancelledBy` aborts: the
 * caller gets DEADLINE_EXCEEDED (or the cancellation) on time even while the call waits in a bulkhead
 * queue or between two retries. `work` gets a signal that aborts at that moment, so that it stops: a
 * queued call never starts and no further retry is made. The attempt in flight is left to its own
 * gRPC deadline, so that the breaker still learns how it ended.
 */
export async function withDeadline<T>(
  deadline: number,
  cancelledBy: readonly AbortSignal[],
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const early = cancelledBy.find((signal) => signal.aborted);
  if (early) throw cancellation(early.reason, what);
  const budgetMs = deadline - Date.now();
  if (budgetMs <= 0) throw new ConnectError(`${what}: the deadline passed before the call`, Code.DeadlineExceeded);

  const controller = new AbortController();
  const stopped = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  const onCancel = (event: Event) => controller.abort(cancellation((event.target as AbortSignal).reason, what));
  const timer = Number.isFinite(budgetMs)
    ? setTimeout(() => {
        controller.abort(new ConnectError(`${what}: deadline exceeded after ${budgetMs} ms`, Code.DeadlineExceeded));
      }, budgetMs)
    : undefined;
  for (const signal of cancelledBy) signal.addEventListener("abort", onCancel, { once: true });
  try {
    // Whichever settles first is the answer; a later outcome of `work` is ignored (race handles it).
    return await Promise.race([work(controller.signal), stopped]);
  } finally {
    clearTimeout(timer);
    for (const signal of cancelledBy) signal.removeEventListener("abort", onCancel);
  }
}

/** An incoming call's signal aborts with a ConnectError (deadline, cancellation, end of call); keep it. */
function cancellation(reason: unknown, what: string): ConnectError {
  if (reason instanceof ConnectError) return reason;
  return new ConnectError(`${what}: cancelled by the caller`, Code.Canceled, undefined, undefined, reason);
}
