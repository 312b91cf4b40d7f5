import { readProcessUsage } from "./process-usage.js";

/*
 * What the router costs while it carries a load window: its CPU, as cores kept busy and as CPU time per
 * call, and its memory. Read around the whole of runLoad (warm-up and timed window alike, the same load),
 * so the CPU per call divides the busy cores by the window's throughput.
 */

export interface RouterUsage {
  /** Traefik's CPU time over the wall time of the load: 1 is one core kept busy. */
  readonly cpuCores: number;
  /** Its CPU time per call answered, in microseconds (cpuCores ÷ calls/s). */
  readonly cpuUsPerCall: number;
  /** Its resident set size at the end of the load, MiB. */
  readonly rssMiB: number;
  /** Its largest resident set size so far, MiB. */
  readonly peakRssMiB: number;
}

export interface UsageWindow {
  /** Reads the usage again; undefined when /proc could not be read (not Linux). */
  done(callsPerSecond: number): Promise<RouterUsage | undefined>;
}

/** Starts a usage window on `pid`: its CPU time and the clock now. */
export async function routerUsageOver(pid: number): Promise<UsageWindow> {
  const before = await readProcessUsage(pid);
  const started = process.hrtime.bigint();
  return {
    async done(callsPerSecond) {
      const after = await readProcessUsage(pid);
      if (!before || !after) return undefined;
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpuCores = (after.cpuSeconds - before.cpuSeconds) / wallSeconds;
      return {
        cpuCores,
        cpuUsPerCall: (cpuCores / callsPerSecond) * 1e6,
        rssMiB: after.rssMiB,
        peakRssMiB: after.peakRssMiB,
      };
    },
  };
}

/** One line for people: the router's usage while `label` ran (median of the rounds). */
export function formatRouterUsage(label: string, usage: RouterUsage): string {
  return (
    `Traefik while ${label}: ${(usage.cpuCores * 100).toFixed(0)}% of a core, ` +
    `${usage.cpuUsPerCall.toFixed(0)} µs CPU per call, RSS ${usage.rssMiB.toFixed(0)} MiB (peak ${usage.peakRssMiB.toFixed(0)} MiB)`
  );
}
