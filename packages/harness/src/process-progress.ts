// How far a starting process has got, as one number that grows while it works: the CPU time it and its
// children (tsx's esbuild) have used, read from /proc. A readiness wait keeps waiting while this grows,
// so that a machine busy with other work slows a start down without failing it, while a process that
// hangs (waits on something that never comes) fails after a stall instead of after an arbitrary budget.
// Also what a process costs in memory once it runs (residentBytes), for `make up`'s ready table.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second (USER_HZ), asked on first use only; 100 on every Linux kernel configured as usual. */
let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * The CPU time, in clock ticks, used so far by `pid` and every process below it; 0 where /proc cannot
 * tell (not Linux, or the process has gone): then only the other measures of progress count.
 */
export function cpuTicks(pid: number): number {
  let ticks = 0;
  for (const id of processTree(pid)) {
    const stat = read(`/proc/${id}/stat`);
    if (!stat) continue;
    // Fields after the command (which may hold spaces, hence the last ")"): state is field 3, utime 14,
    // stime 15, cutime 16, cstime 17 (proc(5)); cutime/cstime hold children already reaped.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    for (const index of [11, 12, 13, 14]) ticks += Number(fields[index] ?? 0) || 0;
  }
  return ticks;
}

/**
 * The CPU time `pid` and the processes below it have used so far, in milliseconds: what a window of work
 * cost a process, read from outside it (a tick is 10 ms; over a thousand calls, 0.01 ms a call).
 */
export function cpuMs(pid: number): number {
  return (cpuTicks(pid) * 1000) / clockTicksPerSecond();
}

/**
 * The resident memory, in bytes, of `pid` and every process below it (a tsx-run service has esbuild's
 * helper under it, which is part of what running it costs); 0 where /proc cannot tell.
 */
export function residentBytes(pid: number): number {
  let kilobytes = 0;
  for (const id of processTree(pid)) {
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(read(`/proc/${id}/status`) ?? "");
    kilobytes += Number(rss?.[1] ?? 0);
  }
  return kilobytes * 1024;
}

/** The CPU time, in ms, of `pid` and of the processes below it now (a PostgreSQL server and its backends). */
export function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, id) => sum + cpuMs(id), 0);
}

/** `pid` and the processes below it, as /proc lists them now. */
function processTree(pid: number): number[] {
  const seen: number[] = [];
  const visit = (id: number) => {
    if (seen.includes(id)) return;
    seen.push(id);
    for (const child of (read(`/proc/${id}/task/${id}/children`) ?? "").split(" ")) {
      if (child.trim()) visit(Number(child));
    }
  };
  visit(pid);
  return seen;
}

/** A progress measure for `pid`: its CPU ticks plus whatever `more` counts (lines of output, say). */
export function progressOf(pid: number | undefined, more: () => number = () => 0): () => number {
  return () => (pid === undefined ? 0 : cpuTicks(pid)) + more();
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
