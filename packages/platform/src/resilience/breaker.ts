import { Code, ConnectError } from "@connectrpc/connect";
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBreaker,
  isBrokenCircuitError,
  SamplingBreaker,
} from "cockatiel";
import type { Logger } from "../log.js";
import { BREAKER_STATE_VALUE, breakerState, breakerTransitions } from "../telemetry/metrics.js";
import { type BreakerSettings, isInstanceFailure } from "./policy.js";

/** What a circuit breaker does with the next call: pass it (closed), fail it fast (open), or let one trial through. */
export type BreakerState = "closed" | "open" | "half-open";

/** The circuit breaker in front of one instance of a target service. */
export interface InstanceBreaker {
  readonly state: BreakerState;
  /**
   * Whether a call sent here now would reach the instance: the breaker is closed, or has been open for
   * `halfOpenAfterMs`, so that the next call is its trial. The balancer prefers such instances.
   */
  acceptsCalls(): boolean;
  /** Runs `call` through the breaker; while open, fails with UNAVAILABLE without calling anything. */
  execute<T>(call: () => Promise<T>): Promise<T>;
}

/**
 * A circuit breaker for the instance at `address`: it tracks the calls that fail because the instance
 * is unwell (isInstanceFailure), opens when the settings say so, and from then on fails calls at once,
 * since sending more to a failing instance only adds load and waiting. After `halfOpenAfterMs` it lets
 * one trial call through: success closes it, failure opens it for another pause. Each change of state
 * is logged at warn, with the target and the instance, and shows in `ftgo_breaker_state` (metrics.ts).
 */
export function createInstanceBreaker(
  settings: BreakerSettings,
  where: { target: string; address: string },
  log: Logger,
): InstanceBreaker {
  const name = `${where.target}@${where.address}`;
  const breaker = circuitBreaker(handleWhen(isInstanceFailure), {
    halfOpenAfter: settings.halfOpenAfterMs,
    breaker: opensAfter(settings),
  });
  let openedAt = 0;
  const labels = { target: where.target, target_instance: where.address };
  breakerState.set(labels, BREAKER_STATE_VALUE.closed);
  breaker.onStateChange((state) => {
    if (state === CircuitState.Open) openedAt = Date.now();
    breakerState.set(labels, BREAKER_STATE_VALUE[stateName(state)]);
    breakerTransitions.inc({ ...labels, to: stateName(state) });
    const failure = breaker.lastFailure;
    const lastError = failure && "error" in failure ? failure.error.message : undefined;
    const fields = { target: where.target, instance: where.address, breaker: stateName(state), lastError };
    log.warn(fields, `circuit ${stateName(state)} for ${name}`);
  });
  return {
    get state() {
      return stateName(breaker.state);
    },
    acceptsCalls() {
      if (breaker.state === CircuitState.Closed) return true;
      // cockatiel moves from open to half-open lazily, on the first call after the pause.
      return breaker.state === CircuitState.Open && Date.now() - openedAt >= settings.halfOpenAfterMs;
    },
    async execute(call) {
      try {
        return await breaker.execute(call);
      } catch (error) {
        if (!isBrokenCircuitError(error)) throw error;
        throw new ConnectError(`circuit open for ${name}`, Code.Unavailable, undefined, undefined, error);
      }
    },
  };
}

function opensAfter(settings: BreakerSettings): IBreaker {
  if (settings.kind === "consecutive") return new ConsecutiveBreaker(settings.failures);
  return new SamplingBreaker({
    threshold: settings.failurePercent / 100,
    duration: settings.windowMs,
    minimumRps: settings.minimumRps,
  });
}

/** Isolated (held open by hand) is a cockatiel state nothing here uses; it reads as open. */
function stateName(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.HalfOpen:
      return "half-open";
    default:
      return "open";
  }
}
