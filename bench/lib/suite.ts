/*
 * What every benchmark suite takes and gives back. A suite compares contenders (ways of doing the same
 * thing) against one baseline, so its result is read as ratios: absolute figures on a shared, slow
 * machine say little, ratios measured in the same run say a lot.
 */

/** Knobs shared by all suites; `bench/run.ts` reads them from BENCH_* variables. */
export interface BenchOptions {
  /** Length of each timed window. */
  readonly seconds: number;
  /** Load applied before each timed window and thrown away, so that JIT and connections are warm. */
  readonly warmupSeconds: number;
  /** Calls kept in flight by the closed-loop load generator. */
  readonly concurrency: number;
  /** Each contender is measured once per round; rounds interleave contenders and the median is reported. */
  readonly rounds: number;
  /** Where progress lines go (stderr), so that stdout carries only the report. */
  readonly progress: (line: string) => void;
}

/** One timed window of one contender. */
export interface Measurement {
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface ContenderResult {
  readonly name: string;
  readonly label: string;
  readonly rounds: readonly Measurement[];
  /** Each figure is the median of that figure over the rounds. */
  readonly median: Measurement;
}

/** Which figure of a measurement a goal looks at. */
export type Figure = "callsPerSecond" | "p50Ms" | "p99Ms";

/**
 * A target the report checks. Plainly, `{ contender, atLeast }`: the contender's throughput is at least
 * `atLeast` × the baseline's. `over` divides by another contender's figure instead of the baseline's;
 * `figure` looks at a latency instead of calls/s; `absolute` checks the figure itself (ms, or calls/s)
 * rather than a ratio; `atMost` bounds it from above (for latencies, and ratios of latencies).
 */
export interface Goal {
  readonly contender: string;
  readonly over?: string;
  readonly figure?: Figure;
  readonly absolute?: boolean;
  readonly atLeast?: number;
  readonly atMost?: number;
  /** How the goals table names the figure; derived from the contenders' labels when absent. */
  readonly label?: string;
}

/**
 * A ratio the report prints besides those to the baseline: `contender`'s figures divided by `over`'s, for a
 * suite whose question compares pairs other than each contender with the baseline.
 */
export interface Comparison {
  readonly label: string;
  readonly contender: string;
  readonly over: string;
}

export interface SuiteResult {
  readonly suite: string;
  /** One line saying what was measured, printed above the table. */
  readonly description: string;
  /** Name of the contender every ratio divides by. */
  readonly baseline: string;
  readonly contenders: readonly ContenderResult[];
  readonly goals: readonly Goal[];
  readonly comparisons?: readonly Comparison[];
  /** Lines printed under the goals (and saved): what a figure compares with, or why a goal was not checked. */
  readonly notes?: readonly string[];
}

export interface Suite {
  readonly name: string;
  run(options: BenchOptions): Promise<SuiteResult>;
}
