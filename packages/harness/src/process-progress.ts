// How far a starting process has got, as one number that grows while it works: the CPU time it and its
// children (tsx's esbuild) have used, read from /proc. A readiness wait keeps waiting while this grows,
// so that a machine busy with other work slows a start down without failing it, while a process that
// hangs (waits on something that never comes) fails after a stall instead of after an arbitrary budget.
import { readFileSync } from "node:fs";

/**
 * The CPU time, in clock ticks, used so far by `pid` and every process below it; 0 where /proc cannot
 * tell (not Linux, or the process has gone): then only the other measures of progress count.
 */
export function cpuTicks(pid: number): number {
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (id: number) => {
    if (seen.has(id)) return;
    seen.add(id);
    const stat = read(`/proc/${id}/stat`);
    if (!stat) return;
    // Fields after the command (which may hold spaces, hence the last ")"): state is field 3, utime 14,
    // stime 15, cutime 16, cstime 17 (proc(5)); cutime/cstime hold children already reaped.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    for (const index of [11, 12, 13, 14]) ticks += Number(fields[index] ?? 0) || 0;
    for (const child of (read(`/proc/${id}/task/${id}/children`) ?? "").split(" ")) {
      if (child.trim()) visit(Number(child));
    }
  };
  visit(pid);
  return ticks;
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
