import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";

/*
 * What a process (the router) costs the machine, read from Linux's /proc: the CPU time it has used so far
 * and its memory. Two readings around a load window give the CPU it spent serving that load. Elsewhere
 * than Linux there is no /proc, and the suite reports no usage rather than failing.
 */

export interface ProcessUsage {
  /** User + system CPU time since the process started, in seconds. */
  readonly cpuSeconds: number;
  /** Resident set size now (VmRSS), in MiB. */
  readonly rssMiB: number;
  /** The largest resident set size so far (VmHWM), in MiB. */
  readonly peakRssMiB: number;
}

/** Clock ticks per second, the unit of /proc/<pid>/stat's times: `getconf CLK_TCK`, 100 on every usual Linux. */
const ticksPerSecond = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/** `pid`'s usage now; undefined when there is no /proc (not Linux) or the process is gone. */
export async function readProcessUsage(pid: number): Promise<ProcessUsage | undefined> {
  let stat: string;
  let status: string;
  try {
    [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8"),
      readFile(`/proc/${pid}/status`, "utf8"),
    ]);
  } catch {
    return undefined;
  }
  // The command name, in parentheses, may hold spaces; the fields after it are space-separated, the first
  // being field 3 (state), so utime (field 14) and stime (field 15) are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? Number.NaN);
  return { cpuSeconds: ticks / ticksPerSecond, rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024 };
}
