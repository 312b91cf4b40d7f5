import { runLoad } from "../../lib/load.js";
import { medianMeasurement } from "../../lib/stats.js";
import type { ContenderResult, Measurement } from "../../lib/suite.js";
import type { Contender } from "./calls.js";

/*
 * Interleaved rounds, as in the other suites: every round measures every contender once, in the same
 * order, so that slow drift on a shared machine hits them all alike; each figure is the median over the
 * rounds. The clients stay open across rounds (one set for the whole suite), so only a contender's
 * first window is preceded by the full warm-up; later ones get a short one to refill the connections'
 * pipelines, which keeps the suite inside its time budget.
 */

export interface RoundsOptions {
  /** "menu" or "details": the progress lines' prefix. */
  readonly phase: string;
  readonly concurrency: number;
  readonly rounds: number;
  readonly seconds: number;
  /** Before each contender's first window; REWARM_SECONDS when an earlier phase has warmed it already. */
  readonly warmupSeconds: number;
  readonly progress: (line: string) => void;
}

/** Warm-up before each later window: enough for every worker to be in its loop again. */
export const REWARM_SECONDS = 0.25;

export async function measureRounds(
  contenders: readonly Contender[],
  options: RoundsOptions,
): Promise<ContenderResult[]> {
  const { phase, concurrency, rounds, seconds, warmupSeconds, progress } = options;
  const measured = new Map<string, Measurement[]>(contenders.map(({ name }) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const contender of contenders) {
      const warmup = round === 1 ? warmupSeconds : REWARM_SECONDS;
      const m = await runLoad(contender.call, { concurrency, seconds, warmupSeconds: warmup });
      measured.get(contender.name)?.push(m);
      progress(
        `gateway ${phase} × ${concurrency} round ${round}/${rounds} ${contender.name}: ` +
          `${Math.round(m.callsPerSecond)} calls/s, p50 ${m.p50Ms.toFixed(3)} ms, p99 ${m.p99Ms.toFixed(3)} ms`,
      );
    }
  }
  return contenders.map(({ name, label }) => {
    const all = measured.get(name) ?? [];
    return { name, label, rounds: all, median: medianMeasurement(all) };
  });
}
