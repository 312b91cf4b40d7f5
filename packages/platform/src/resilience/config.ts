import type { EnvReader } from "../env.js";
import { type BreakerSettings, type CallPolicy, DEFAULT_CALL_POLICY, DEFAULT_SAMPLING_BREAKER } from "./policy.js";

/** The call policy of each target service a process calls, keyed by the target's name. */
export type PolicyConfig<Target extends string = string> = Readonly<Record<Target, CallPolicy>>;

/**
 * Reads the call policy of each of `targets` from the environment, for use inside loadConfig's `extra`:
 * `loadConfig(env, defaults, (read) => ({ policies: loadPolicyConfig(read, ["kitchen"]) }))`. Every
 * variable is optional and named after its target (`order-history` → `ORDER_HISTORY_…`):
 *
 *   KITCHEN_TIMEOUT_MS                deadline of a call that sets none               2000
 *   KITCHEN_ATTEMPT_TIMEOUT_MS        deadline of each retryable attempt; 0: none     0
 *   KITCHEN_BULKHEAD_LIMIT            calls in flight at once                         32
 *   KITCHEN_BULKHEAD_QUEUE            calls waiting for a slot                        16
 *   KITCHEN_BREAKER                   consecutive | sampling                          consecutive
 *   KITCHEN_BREAKER_FAILURES          consecutive: failures in a row that open it     5
 *   KITCHEN_BREAKER_FAILURE_PERCENT   sampling: failure share that opens it (1–100)   50
 *   KITCHEN_BREAKER_WINDOW_MS         sampling: over how long                         10000
 *   KITCHEN_BREAKER_MIN_RPS           sampling: calls per second needed to judge      5
 *   KITCHEN_BREAKER_HALF_OPEN_MS      pause before a trial call                       5000
 *   KITCHEN_RETRY_ATTEMPTS            attempts in all; 1 turns retries off            3
 *   KITCHEN_RETRY_INITIAL_DELAY_MS    first backoff (then exponential, with jitter)   50
 *   KITCHEN_RETRY_MAX_DELAY_MS        longest backoff                                 1000
 */
export function loadPolicyConfig<Target extends string>(
  read: EnvReader,
  targets: readonly Target[],
): PolicyConfig<Target> {
  const entries = targets.map((target) => [target, readPolicy(read, envPrefix(target))] as const);
  return Object.freeze(Object.fromEntries(entries) as Record<Target, CallPolicy>);
}

/** One row of describePolicies(): a target's effective policy in words, for a README table or a dashboard. */
export interface PolicyRow {
  readonly target: string;
  readonly deadline: string;
  readonly bulkhead: string;
  readonly breaker: string;
  readonly retry: string;
}

/** The effective policies, one row per target, as a reader would say them. */
export function describePolicies(policies: PolicyConfig): PolicyRow[] {
  return Object.entries<CallPolicy>(policies).map(([target, policy]) => ({
    target,
    deadline:
      (policy.timeoutMs > 0 ? `${policy.timeoutMs} ms` : "none") +
      (policy.attemptTimeoutMs > 0 ? `, ${policy.attemptTimeoutMs} ms per attempt` : ""),
    bulkhead: `${policy.bulkhead.limit} in flight + ${policy.bulkhead.queue} queued`,
    breaker: `${describeOpening(policy.breaker)}; half-open after ${policy.breaker.halfOpenAfterMs} ms`,
    retry:
      policy.retry.attempts > 1
        ? `${policy.retry.attempts} attempts, backoff ${policy.retry.initialDelayMs}–${policy.retry.maxDelayMs} ms` +
          " with jitter; idempotent methods only"
        : "off",
  }));
}

function describeOpening(breaker: BreakerSettings): string {
  return breaker.kind === "consecutive"
    ? `opens after ${breaker.failures} failures in a row`
    : `opens above ${breaker.failurePercent}% failures in ${breaker.windowMs} ms (at ${breaker.minimumRps}+ calls/s)`;
}

function readPolicy(read: EnvReader, prefix: string): CallPolicy {
  const defaults = DEFAULT_CALL_POLICY;
  return Object.freeze({
    timeoutMs: read.int(`${prefix}_TIMEOUT_MS`, defaults.timeoutMs, 0),
    attemptTimeoutMs: read.int(`${prefix}_ATTEMPT_TIMEOUT_MS`, defaults.attemptTimeoutMs, 0),
    bulkhead: Object.freeze({
      limit: read.int(`${prefix}_BULKHEAD_LIMIT`, defaults.bulkhead.limit, 1),
      queue: read.int(`${prefix}_BULKHEAD_QUEUE`, defaults.bulkhead.queue, 0),
    }),
    breaker: Object.freeze(readBreaker(read, prefix)),
    retry: Object.freeze({
      attempts: read.int(`${prefix}_RETRY_ATTEMPTS`, defaults.retry.attempts, 1),
      initialDelayMs: read.int(`${prefix}_RETRY_INITIAL_DELAY_MS`, defaults.retry.initialDelayMs, 0),
      maxDelayMs: read.int(`${prefix}_RETRY_MAX_DELAY_MS`, defaults.retry.maxDelayMs, 0),
    }),
  });
}

function readBreaker(read: EnvReader, prefix: string): BreakerSettings {
  const defaults = DEFAULT_CALL_POLICY.breaker;
  const halfOpenAfterMs = read.int(`${prefix}_BREAKER_HALF_OPEN_MS`, defaults.halfOpenAfterMs, 1);
  const kind = read.oneOf<BreakerSettings["kind"]>(`${prefix}_BREAKER`, ["consecutive", "sampling"], defaults.kind);
  if (kind === "consecutive") {
    return { kind, failures: read.int(`${prefix}_BREAKER_FAILURES`, defaults.failures, 1), halfOpenAfterMs };
  }
  const failurePercent = read.int(`${prefix}_BREAKER_FAILURE_PERCENT`, DEFAULT_SAMPLING_BREAKER.failurePercent, 1);
  // EnvReader.int has no upper bound; a share above 100 % could never be reached.
  if (failurePercent > 100) read.problem(`${prefix}_BREAKER_FAILURE_PERCENT=${failurePercent} is not from 1 to 100`);
  return {
    kind,
    failurePercent,
    windowMs: read.int(`${prefix}_BREAKER_WINDOW_MS`, DEFAULT_SAMPLING_BREAKER.windowMs, 1),
    minimumRps: read.int(`${prefix}_BREAKER_MIN_RPS`, DEFAULT_SAMPLING_BREAKER.minimumRps, 0),
    halfOpenAfterMs,
  };
}

/** `kitchen` → `KITCHEN`, `order-history` → `ORDER_HISTORY`. */
function envPrefix(target: string): string {
  return target.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}
