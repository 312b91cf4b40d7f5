import type { Measurement } from "./suite.js";

/*
 * The arithmetic of a benchmark, kept apart from timing and printing so that it can be read (and
 * checked) on its own.
 */

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest sample that at least `p` percent
 * of the samples do not exceed. Nearest-rank never invents a value between two samples, so a p99 is
 * always a latency some call really had.
 */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** The middle value, or the mean of the two middle ones (so with two rounds, their mean). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One measurement from several rounds: each figure is its own median, so one noisy round cannot skew it. */
export function medianMeasurement(rounds: readonly Measurement[]): Measurement {
  const of = (pick: (m: Measurement) => number) => median(rounds.map(pick));
  return {
    calls: of((m) => m.calls),
    seconds: of((m) => m.seconds),
    callsPerSecond: of((m) => m.callsPerSecond),
    p50Ms: of((m) => m.p50Ms),
    p99Ms: of((m) => m.p99Ms),
  };
}

/** A timed window as a measurement: its calls per second, and the p50/p99 of their latencies. */
export function measurementOf(latenciesMs: readonly number[], seconds: number): Measurement {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    calls: sorted.length,
    seconds,
    callsPerSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}
