// Handling partial failure. A service we call runs in another process: it may be down, overloaded or
// stuck, and every call to it may fail or never return. So every call a mesh client makes goes through
// the target's CallPolicy, layer by layer:
//
//   deadline   never wait indefinitely: each call has a deadline, and it travels with the call downstream
//   bulkhead   bound the outstanding calls to one service; once full, fail at once instead of piling up
//   retry      repeat a failed attempt after a backoff, on another instance, if the method is safe to repeat
//   breaker    per instance: after repeated failures stop calling it (fail fast), try again after a pause
//
// Fallback is not automatic: only the caller knows a sensible substitute (see fallback.ts).
import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { isBrokenCircuitError } from "cockatiel";

/** How one client calls one target service. Every number has a named default in DEFAULT_CALL_POLICY. */
export interface CallPolicy {
  /** Deadline of a call that sets no `timeoutMs`, in milliseconds; 0 or less sets none. */
  readonly timeoutMs: number;
  /**
   * Deadline of each attempt of a retryable call, so that a hung instance costs one attempt instead of
   * the whole deadline. 0 gives each attempt whatever remains of the call's deadline.
   */
  readonly attemptTimeoutMs: number;
  readonly bulkhead: BulkheadSettings;
  readonly breaker: BreakerSettings;
  readonly retry: RetrySettings;
}

/** The bulkhead: a limit on the calls to one target that are outstanding at once, over all its instances. */
export interface BulkheadSettings {
  /** Calls in flight at once. */
  readonly limit: number;
  /** Calls that may wait for a free slot; beyond that a call fails at once with RESOURCE_EXHAUSTED. */
  readonly queue: number;
}

/** The circuit breaker of each instance: when it opens, and when it lets a trial call through again. */
export type BreakerSettings = {
  /** How long an open breaker fails calls fast before it lets one trial call through (half-open). */
  readonly halfOpenAfterMs: number;
} & (
  | {
      readonly kind: "consecutive";
      /** Opens after this many failures in a row; any success starts the count again. */
      readonly failures: number;
    }
  | {
      readonly kind: "sampling";
      /** Opens when more than this share of calls (1–100 %) failed over the last `windowMs`… */
      readonly failurePercent: number;
      readonly windowMs: number;
      /** …provided there were at least this many calls per second: a few failures under no load prove little. */
      readonly minimumRps: number;
    }
);

/** Retries of one call: how often, and how long to wait in between. */
export interface RetrySettings {
  /** Attempts in all, the first included: 3 means up to 2 retries. 1 turns retries off. */
  readonly attempts: number;
  /** Exponential backoff with jitter, from about this long… */
  readonly initialDelayMs: number;
  /** …to at most this long. */
  readonly maxDelayMs: number;
}

/** The sampling breaker's numbers, used when a target chooses `kind: "sampling"`. */
export const DEFAULT_SAMPLING_BREAKER = Object.freeze({ failurePercent: 50, windowMs: 10_000, minimumRps: 5 });

/**
 * What every target gets unless its environment says otherwise (see loadPolicyConfig). A 2 s deadline
 * leaves a gateway call room for two hops; 32 + 16 calls cover a busy service without letting one slow
 * dependency take every socket; five failures in a row are no accident; three attempts ride out a
 * restarting instance without tripling the load of a struggling one.
 */
export const DEFAULT_CALL_POLICY = Object.freeze({
  timeoutMs: 2_000,
  attemptTimeoutMs: 0,
  bulkhead: Object.freeze({ limit: 32, queue: 16 }),
  breaker: Object.freeze({ kind: "consecutive", failures: 5, halfOpenAfterMs: 5_000 }),
  retry: Object.freeze({ attempts: 3, initialDelayMs: 50, maxDelayMs: 1_000 }),
}) satisfies CallPolicy;

/**
 * Whether a failed call counts against the instance's circuit breaker: only answers that say the
 * instance itself is unwell. UNAVAILABLE (down, refusing, shutting down) and DEADLINE_EXCEEDED (stuck or
 * overloaded) do; so do INTERNAL and UNKNOWN, which our servers send only for failures that are not the
 * caller's (a broken database fails every request). Every other answer comes from a healthy server:
 * NOT_FOUND or INVALID_ARGUMENT is the server working, RESOURCE_EXHAUSTED is a limit doing its job, and
 * CANCELLED is the caller giving up.
 */
export function isInstanceFailure(error: unknown): boolean {
  if (!(error instanceof ConnectError)) return false;
  switch (error.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Internal:
    case Code.Unknown:
      return true;
    default:
      return false;
  }
}

/**
 * Whether one failed attempt of a safe call is worth repeating: the failures that a moment later, or on
 * another instance, may well be gone. UNAVAILABLE and RESOURCE_EXHAUSTED from a server qualify;
 * DEADLINE_EXCEEDED only while the call's own deadline has not passed, i.e. when the attempt had a
 * shorter one (attemptTimeoutMs) or the server gave up on its own dependency. An open circuit does not:
 * the balancer sends a call to an open breaker only when no instance accepts calls, so a retry would
 * meet open breakers too, and the caller should hear it at once.
 */
export function isRetryable(error: unknown, deadline: number): boolean {
  if (!(error instanceof ConnectError)) return false;
  switch (error.code) {
    case Code.Unavailable:
      return !isBrokenCircuitError(error.cause);
    case Code.ResourceExhausted:
      return true;
    case Code.DeadlineExceeded:
      return Date.now() < deadline;
    default:
      return false;
  }
}

/**
 * Whether the contract lets a client repeat a call: the method declares `idempotency_level`
 * NO_SIDE_EFFECTS (a read) or IDEMPOTENT (doing it twice is doing it once) in its .proto. A method that
 * declares nothing, such as CreateOrder, is called exactly once: a repeat could create a second order.
 */
export function isSafeToRetry(method: DescMethod): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  );
}
