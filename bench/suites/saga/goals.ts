// Issue 14's goals table, as far as the saga suite measures it, in the report's own goal mechanism
// (bench/lib/report.ts): each row a ratio of two contenders' figures, or a figure itself, with its bound.
import type { ContenderResult, Goal } from "../../lib/suite.js";
import type { PreviousFigure, PreviousLookup } from "./previous.js";

/** Contender names the goals refer to (saga.ts builds contenders with these names). */
export const CONTENDER = {
  saga: "saga",
  sagaApproved: "saga-approved",
  orchestration: "saga-orchestration",
  sagaAlone: "saga-alone",
  bare: "bare",
  bareAlone: "bare-alone",
  steadyLag: "outbox-lag",
  previous: "previous",
} as const;

/** The goals; the one against the previous commit only when there is a previous figure to compare with. */
export function sagaGoals(previous: PreviousFigure | undefined): Goal[] {
  return [
    {
      label: "saga orders/s (choreography, approved path) vs the bare pipeline",
      contender: CONTENDER.sagaApproved,
      over: CONTENDER.bare,
      atLeast: 0.8,
    },
    ...(previous
      ? [
          {
            label: `saga orders/s vs commit ${previous.commit.slice(0, 10)}, same load`,
            contender: CONTENDER.saga,
            over: CONTENDER.previous,
            atLeast: 4,
          },
        ]
      : []),
    {
      label: "orchestration vs choreography orders/s",
      contender: CONTENDER.orchestration,
      over: CONTENDER.saga,
      atLeast: 0.9,
    },
    {
      label: "one order alone, create → APPROVED, p50",
      contender: CONTENDER.sagaAlone,
      figure: "p50Ms",
      absolute: true,
      atMost: 25,
    },
    {
      label: "one order alone p50 vs the bare pipeline's",
      contender: CONTENDER.sagaAlone,
      over: CONTENDER.bareAlone,
      figure: "p50Ms",
      atMost: 2,
    },
    {
      label: "outbox commit → publish lag p99 at 50 % of max load",
      contender: CONTENDER.steadyLag,
      figure: "p99Ms",
      absolute: true,
      atMost: 20,
    },
  ];
}

/** The previous figure as a contender of its own (no rounds, no latencies), so a goal can divide by it. */
export function previousContender(previous: PreviousFigure): ContenderResult {
  return {
    name: CONTENDER.previous,
    label: `saga, choreography at ${previous.commit.slice(0, 10)} (orders/s, its latest-saga.json)`,
    rounds: [],
    median: {
      calls: Number.NaN,
      seconds: Number.NaN,
      callsPerSecond: previous.ordersPerSecond,
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
    },
  };
}

/** The report's line about the previous figure: today's next to it, with the commit and the ratio, or why there is none. */
export function previousFigureNote(lookup: PreviousLookup, todayOrdersPerSecond: number): string {
  if ("missing" in lookup) {
    return `previous figure: none (${lookup.missing}); the goal against the previous commit is not checked`;
  }
  const { commit, ordersPerSecond, timestamp } = lookup.figure;
  return (
    `previous figure: ${ordersPerSecond.toFixed(1)} orders/s at commit ${commit}` +
    `${timestamp ? ` (run ${timestamp})` : ""}; today ${todayOrdersPerSecond.toFixed(1)} orders/s = ` +
    `${(todayOrdersPerSecond / ordersPerSecond).toFixed(2)}× (BENCH_COMPARE_WITH=<rev> compares with another commit)`
  );
}
