// The soak's report, as `npm run soak` prints it and test/soak.test.ts reads it: the load, the customers'
// errors by kind, the chaos by kind, how the orders ended, and the audit's checks with "N of N checks passed".
import { CHAOS_KINDS } from "./soak-chaos.js";
import type { SoakResult } from "./soak-run.js";

/** The last line when every check held: `audit: clean, 16 of 16 checks passed`. */
export const CLEAN = /^audit: clean, (\d+) of \1 checks passed$/m;

/** The summary, one fact a line; its last line says whether the audit was clean. */
export function formatSoakSummary(result: SoakResult): string {
  const merged = (pick: (load: SoakResult["loads"][number]) => ReadonlyMap<string, number>) => {
    const counts = new Map<string, number>();
    for (const load of result.loads) for (const [k, n] of pick(load)) counts.set(k, (counts.get(k) ?? 0) + n);
    return counts;
  };
  const placed = result.loads.reduce((n, load) => n + load.placed.size, 0);
  const attempted = result.loads.reduce((n, load) => n + load.attempted, 0);
  const byKind = new Map(CHAOS_KINDS.map((kind) => [kind, result.chaos.filter((e) => e.kind === kind)]));
  const failedEvents = result.chaos.filter((event) => event.failed);
  const passed = result.checks.filter((check) => check.ok).length;
  const total = result.checks.length;
  const lines = [
    "── soak summary ──",
    result.capacity
      ? `capacity: ${result.capacity.accepted.toFixed(1)} orders/s accepted, ${result.capacity.settled.toFixed(1)}/s settled; load at ${result.rate.toFixed(1)}/s`
      : `load at ${result.rate.toFixed(1)} orders/s (--rate)`,
    `load: ${(result.loadMs / 1000).toFixed(0)} s; orders placed: ${placed} of ${attempted} set out (${list(merged((l) => l.placedByPath))})`,
    `client errors: ${total0(merged((l) => l.clientErrors))} (${list(merged((l) => l.clientErrors)) || "none"})`,
    `orders: ${list(new Map([...outcomeTotals(result)]))}`,
    `chaos events: ${result.chaos.length} (${[...byKind].map(([kind, events]) => `${kind} ${events.length}`).join(", ")})${
      failedEvents.length > 0 ? `; ${failedEvents.length} failed` : ""
    }`,
    ...result.checks.map((check) => `  ${check.ok ? "✓" : "✗"} ${check.name}: ${check.detail}`),
    passed === total
      ? `audit: clean, ${passed} of ${total} checks passed`
      : `audit: FAILED, ${passed} of ${total} checks passed`,
  ];
  return lines.join("\n");
}

function outcomeTotals(result: SoakResult): Map<string, number> {
  return new Map([...result.outcomes].sort(([a], [b]) => a.localeCompare(b)));
}

function list(counts: ReadonlyMap<string, number>): string {
  return [...counts]
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key}: ${n}`)
    .join(", ");
}

function total0(counts: ReadonlyMap<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}
