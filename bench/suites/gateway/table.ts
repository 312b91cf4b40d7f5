import type { ContenderResult } from "../../lib/suite.js";
import type { AddedLatency, CompositionCost, GatewayCpu } from "./verdicts.js";

/*
 * The suite's own tables, printed before the shared one. The shared report divides every figure by one
 * baseline at one concurrency; the questions here are a difference (milliseconds added) and a ratio to
 * whichever leg is slowest, each at two concurrencies, and the figures need three decimals.
 */

export function formatAddedTable(rows: readonly AddedLatency[], title: string): string {
  const header = [
    "in flight",
    "direct p50",
    "gateway p50",
    "added p50",
    "direct p99",
    "gateway p99",
    "added p99",
    "× calls/s",
    "goal",
  ];
  const cells = rows.map((row) => [
    String(row.concurrency),
    ms(row.directP50Ms),
    ms(row.gatewayP50Ms),
    signed(row.addedP50Ms),
    ms(row.directP99Ms),
    ms(row.gatewayP99Ms),
    signed(row.addedP99Ms),
    row.throughputRatio.toFixed(2),
    row.met ? "PASS" : "BELOW GOAL",
  ]);
  const goal = rows[0]?.goal ?? "";
  return [
    title,
    "",
    ...table(header, cells),
    "",
    `milliseconds, medians over the rounds; × calls/s = gateway ÷ direct. goal (informative): ${goal}`,
    ...rows.map(
      (row) => `goal: ${goal} at ${row.concurrency} in flight → ${signed(row.addedP50Ms)} ms  ${verdict(row.met)}`,
    ),
  ].join("\n");
}

export function formatCompositionTable(
  byConcurrency: readonly { concurrency: number; results: readonly ContenderResult[]; cost: CompositionCost }[],
  title: string,
): string {
  const header = [
    "call",
    ...byConcurrency.flatMap(({ concurrency: c }) => [`p50 ×${c}`, `p99 ×${c}`, `calls/s ×${c}`]),
  ];
  const first = byConcurrency[0]?.results ?? [];
  const cells = first.map((contender) => [
    contender.label,
    ...byConcurrency.flatMap(({ results }) => {
      const m = results.find((r) => r.name === contender.name)?.median;
      return m ? [ms(m.p50Ms), ms(m.p99Ms), m.callsPerSecond.toFixed(0)] : ["-", "-", "-"];
    }),
  ]);
  return [
    title,
    "",
    ...table(header, cells),
    "",
    `milliseconds, medians over the rounds; ×N = N calls in flight. goal (informative): ${byConcurrency[0]?.cost.goal ?? ""}`,
    ...byConcurrency.map(
      ({ cost }) =>
        `goal at ${cost.concurrency} in flight: composed p50 ${ms(cost.composedP50Ms)} = ` +
        `${cost.overFanOutP50Ratio.toFixed(2)} × the calls in parallel direct ${ms(cost.fanOutP50Ms)} → ${verdict(cost.met)}  ` +
        `(${cost.p50Ratio.toFixed(2)} × ${cost.slowestP50.name} ${ms(cost.slowestP50.ms)}, the fan-out alone ` +
        `${cost.fanOutP50Ratio.toFixed(2)} ×; p99 ${ms(cost.composedP99Ms)} = ${cost.p99Ratio.toFixed(2)} × ` +
        `${cost.slowestP99.name} ${ms(cost.slowestP99.ms)})`,
    ),
  ].join("\n");
}

/** The gateway's CPU time per request, from /proc over each gateway window (cpu.ts). */
export function formatCpuTable(rows: readonly GatewayCpu[], title: string): string {
  const header = ["in flight", "menu, ms CPU/request", "composed, ms CPU/request", "goal"];
  const cells = rows.map((row) => [String(row.concurrency), ms(row.menuMs), ms(row.composedMs), verdict(row.met)]);
  return [
    title,
    "",
    ...table(header, cells),
    "",
    `the gateway process's utime + stime over each window ÷ the calls made in it; medians over the rounds. goal (informative): ${rows[0]?.goal ?? ""}`,
  ].join("\n");
}

function table(header: readonly string[], cells: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join("   ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)];
}

const ms = (value: number) => value.toFixed(3);
const signed = (value: number) => `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(3)}`;
const verdict = (met: boolean) => (met ? "PASS" : "BELOW GOAL");
