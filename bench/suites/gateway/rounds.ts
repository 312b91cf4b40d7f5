import { cpuMs } from "@ftgo/harness/process-progress.js";
import { runLoad } from "../../lib/load.js";
import { median, medianMeasurement } from "../../lib/stats.js";
import type { ContenderResult, Measurement } from "../../lib/suite.js";
import type { Contender } from "./calls.js";

/*
 * Interleaved rounds, as in the other suites: every round measures every contender once, in the same
 * order, so that slow drift on a shared machine hits them all alike; each figure is the median over the
 * rounds. The clients stay open across rounds (one set for the whole suite), so only a contender's
 * first window is preceded by the full warm-up; later ones get a short one to refill the connections'
 * pipelines, which keeps the suite inside its time budget.
 *
 * A contender that goes through the gateway is also charged the gateway process's CPU time over its
 * window (warm-up included) divided by the calls it made in that time: every call is counted, so the
 * quotient is exact however the window is split.
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
  /** The gateway process, whose CPU time the contenders marked `viaGateway` are charged. */
  readonly gatewayPid: number;
}

/** A contender's figures over the rounds, and, for one through the gateway, its CPU per call. */
export interface MeasuredContender extends ContenderResult {
  /** The gateway's CPU milliseconds per call, median over the rounds; absent for direct calls. */
  readonly gatewayCpuMsPerCall?: number;
}

/** Warm-up before each later window: enough for every worker to be in its loop again. */
export const REWARM_SECONDS = 0.25;

export async function measureRounds(
  contenders: readonly Contender[],
  options: RoundsOptions,
): Promise<MeasuredContender[]> {
  const { phase, concurrency, rounds, seconds, warmupSeconds, progress, gatewayPid } = options;
  const measured = new Map<string, Measurement[]>(contenders.map(({ name }) => [name, []]));
  const cpu = new Map<string, number[]>(contenders.map(({ name }) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const contender of contenders) {
      const warmup = round === 1 ? warmupSeconds : REWARM_SECONDS;
      let calls = 0;
      const counted = () => {
        calls++;
        return contender.call();
      };
      const cpuBefore = cpuMs(gatewayPid);
      const m = await runLoad(counted, { concurrency, seconds, warmupSeconds: warmup });
      const cpuPerCall = (cpuMs(gatewayPid) - cpuBefore) / calls;
      measured.get(contender.name)?.push(m);
      if (contender.viaGateway) cpu.get(contender.name)?.push(cpuPerCall);
      progress(
        `gateway ${phase} × ${concurrency} round ${round}/${rounds} ${contender.name}: ` +
          `${Math.round(m.callsPerSecond)} calls/s, p50 ${m.p50Ms.toFixed(3)} ms, p99 ${m.p99Ms.toFixed(3)} ms` +
          (contender.viaGateway ? `, gateway CPU ${cpuPerCall.toFixed(3)} ms/call` : ""),
      );
    }
  }
  return contenders.map(({ name, label, viaGateway }) => {
    const all = measured.get(name) ?? [];
    const result = { name, label, rounds: all, median: medianMeasurement(all) };
    return viaGateway ? { ...result, gatewayCpuMsPerCall: median(cpu.get(name) ?? []) } : result;
  });
}
