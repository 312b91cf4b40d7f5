// The dashboard's charts, worked out from the order history: orders placed per second and the latency of
// the Create Order sagas that ended (creation to APPROVED or REJECTED), per bucket of the last minutes;
// and how the sagas ended, by outcome.
import type { ChartsView, OrderRow } from "./view.js";

export const BUCKET_SECONDS = 10;
/** Five minutes of buckets. */
export const BUCKETS = 30;

const ENDED = new Set(["APPROVED", "REJECTED"]);

export function chartsOf(rows: readonly OrderRow[], now: number): ChartsView {
  const width = BUCKET_SECONDS * 1000;
  const end = Math.ceil(now / width) * width;
  const start = end - BUCKETS * width;
  const placed = new Array<number>(BUCKETS).fill(0);
  const latencies = Array.from({ length: BUCKETS }, () => [] as number[]);
  const outcomes = new Map<string, number>();
  for (const row of rows) {
    const created = Date.parse(row.createTime);
    const index = Math.floor((created - start) / width);
    if (index >= 0 && index < BUCKETS) placed[index] = (placed[index] ?? 0) + 1;
    if (!ENDED.has(row.state) && row.state !== "CANCELLED") continue;
    const outcome = row.state === "REJECTED" ? `REJECTED: ${row.reason || "no reason"}` : row.state;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (!ENDED.has(row.state)) continue;
    const ended = Date.parse(row.updateTime);
    const endIndex = Math.floor((ended - start) / width);
    if (endIndex >= 0 && endIndex < BUCKETS) latencies[endIndex]?.push(ended - created);
  }
  return {
    bucketSeconds: BUCKET_SECONDS,
    buckets: placed.map((count, i) => {
      const sorted = (latencies[i] ?? []).sort((a, b) => a - b);
      return {
        start: new Date(start + i * width).toISOString(),
        ordersPerSecond: count / BUCKET_SECONDS,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
      };
    }),
    outcomes: [...outcomes].map(([outcome, count]) => ({ outcome, count })).sort((a, b) => b.count - a.count),
  };
}

/** The nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;
}
