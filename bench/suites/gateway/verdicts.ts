import type { ContenderResult } from "../../lib/suite.js";

/*
 * The suite's questions, as numbers: what the gateway adds to one call (its route minus the same call
 * made directly), what composing five calls costs over making the same five in parallel without it,
 * and what one request costs the gateway in CPU. The goals (issue 14) are informative, never a test;
 * they are saved with the contender they judge.
 */

/** Goal of the single-leg route: at most this many milliseconds added to the direct call's p50. */
export const ADDED_P50_GOAL_MS = 0.2;
/** Goal of the composed route: its p50 at most this multiple of the same calls' in parallel, direct. */
export const COMPOSED_GOAL_RATIO = 1.2;
/** Goal of the composed route: at most this much of the gateway's CPU time per request, in milliseconds. */
export const CPU_PER_COMPOSED_GOAL_MS = 0.5;

export interface AddedLatency {
  readonly concurrency: number;
  readonly directP50Ms: number;
  readonly gatewayP50Ms: number;
  readonly addedP50Ms: number;
  readonly directP99Ms: number;
  readonly gatewayP99Ms: number;
  readonly addedP99Ms: number;
  /** Gateway calls/s ÷ direct calls/s. */
  readonly throughputRatio: number;
  readonly goal: string;
  readonly met: boolean;
}

/** The gateway route's median figures against the direct call's, measured at the same concurrency. */
export function addedLatency(direct: ContenderResult, gateway: ContenderResult, concurrency: number): AddedLatency {
  const d = direct.median;
  const g = gateway.median;
  const addedP50Ms = g.p50Ms - d.p50Ms;
  return {
    concurrency,
    directP50Ms: d.p50Ms,
    gatewayP50Ms: g.p50Ms,
    addedP50Ms,
    directP99Ms: d.p99Ms,
    gatewayP99Ms: g.p99Ms,
    addedP99Ms: g.p99Ms - d.p99Ms,
    throughputRatio: g.callsPerSecond / d.callsPerSecond,
    goal: `added p50 ≤ +${ADDED_P50_GOAL_MS} ms`,
    met: addedP50Ms <= ADDED_P50_GOAL_MS,
  };
}

export interface SlowestLeg {
  readonly name: string;
  readonly label: string;
  readonly ms: number;
}

export interface CompositionCost {
  readonly concurrency: number;
  readonly composedP50Ms: number;
  readonly composedP99Ms: number;
  /** The leg with the highest median p50, and that p50. */
  readonly slowestP50: SlowestLeg;
  /** The leg with the highest median p99 (not necessarily the same leg), and that p99. */
  readonly slowestP99: SlowestLeg;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  /** The same calls in parallel from the bench process, no gateway: the machine's share of the gap. */
  readonly fanOutP50Ms: number;
  /** The fan-out's p50 ÷ the slowest leg's. */
  readonly fanOutP50Ratio: number;
  /** The composed p50 ÷ the fan-out's: what the gateway adds to the calls it makes. The goal's figure. */
  readonly overFanOutP50Ratio: number;
  readonly goal: string;
  /** Judged on the p50: the p99 of a few thousand calls on a shared machine is mostly its noise. */
  readonly met: boolean;
}

export function compositionCost(
  composed: ContenderResult,
  fanOut: ContenderResult,
  legs: readonly ContenderResult[],
  concurrency: number,
): CompositionCost {
  const slowest = (pick: (leg: ContenderResult) => number): SlowestLeg => {
    const leg = legs.reduce((a, b) => (pick(b) > pick(a) ? b : a));
    return { name: leg.name, label: leg.label, ms: pick(leg) };
  };
  const slowestP50 = slowest((leg) => leg.median.p50Ms);
  const slowestP99 = slowest((leg) => leg.median.p99Ms);
  const p50Ratio = composed.median.p50Ms / slowestP50.ms;
  const overFanOutP50Ratio = composed.median.p50Ms / fanOut.median.p50Ms;
  return {
    concurrency,
    composedP50Ms: composed.median.p50Ms,
    composedP99Ms: composed.median.p99Ms,
    slowestP50,
    slowestP99,
    p50Ratio,
    p99Ratio: composed.median.p99Ms / slowestP99.ms,
    fanOutP50Ms: fanOut.median.p50Ms,
    fanOutP50Ratio: fanOut.median.p50Ms / slowestP50.ms,
    overFanOutP50Ratio,
    goal: `composed p50 ≤ ${COMPOSED_GOAL_RATIO} × the same calls in parallel, direct`,
    met: overFanOutP50Ratio <= COMPOSED_GOAL_RATIO,
  };
}

export interface GatewayCpu {
  readonly concurrency: number;
  /** The gateway's CPU milliseconds per request, median over the rounds. */
  readonly menuMs: number;
  readonly composedMs: number;
  readonly goal: string;
  /** Judged on the composed request. */
  readonly met: boolean;
}

export function gatewayCpu(concurrency: number, menuMs: number, composedMs: number): GatewayCpu {
  return {
    concurrency,
    menuMs,
    composedMs,
    goal: `gateway CPU per composed request ≤ ${CPU_PER_COMPOSED_GOAL_MS} ms`,
    met: composedMs <= CPU_PER_COMPOSED_GOAL_MS,
  };
}
