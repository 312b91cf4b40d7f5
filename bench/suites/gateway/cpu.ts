import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/*
 * The gateway's own CPU time, read from outside its process: /proc/<pid>/stat's utime + stime (user and
 * system time, in clock ticks). Read before and after a window of gateway calls, it says what one
 * request costs the gateway in CPU, whatever the machine's other processes do to its latency. A tick is
 * 10 ms on Linux; over a window of a thousand calls or more that is a resolution of 0.01 ms per call.
 */

/** Clock ticks per second (USER_HZ), asked once; 100 on every Linux kernel configured as usual. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The user + system CPU time the process `pid` has used so far, in milliseconds. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, i.e. 11 and 12 after the name (state is 0).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / TICKS_PER_SECOND;
}
