import type { SerialResult } from "./serial.js";

/*
 * The one-at-a-time table. The shared report prints milliseconds to two decimals, which would show
 * every rejection as 0.01 ms and its ratios as 0.00; these rows are microseconds, so they get a table
 * of their own.
 */

export interface SerialBaselines {
  /** The label of the baseline in the throughput table. */
  readonly label: string;
  /** Its median p50 with `concurrency` calls in flight. */
  readonly loadedP50Ms: number;
  readonly concurrency: number;
  /** Its p50 one call at a time. */
  readonly serialP50Us: number;
}

/** Each row's ratios to the baseline's p50, loaded and alone; saved with the rows. */
export function serialRatios(row: SerialResult, baselines: SerialBaselines) {
  return {
    p50ToLoadedBaselineP50: row.p50Us / (baselines.loadedP50Ms * 1e3),
    p50ToSerialBaselineP50: row.p50Us / baselines.serialP50Us,
  };
}

export function formatSerialTable(rows: readonly SerialResult[], baselines: SerialBaselines): string {
  const header = [
    "one call at a time",
    "calls",
    "p50 µs",
    "p99 µs",
    `× p50 of ${baselines.concurrency} in flight`,
    "× p50 of 1 in flight",
    "server saw",
  ];
  const cells = rows.map((row) => {
    const ratios = serialRatios(row, baselines);
    return [
      row.label,
      row.calls.toLocaleString("en-US"),
      row.p50Us.toFixed(1),
      row.p99Us.toFixed(1),
      ratio(ratios.p50ToLoadedBaselineP50),
      ratio(ratios.p50ToSerialBaselineP50),
      row.serverCalls === undefined ? "every call" : `${row.serverCalls} calls`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join("   ");
  return [
    `mesh, one call at a time: what a rejection costs the caller, beside a call that reaches the server`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.map(line),
    "",
    `ratios are to ${baselines.label}'s p50: ${(baselines.loadedP50Ms * 1e3).toFixed(0)} µs with ` +
      `${baselines.concurrency} in flight (throughput table), ${baselines.serialP50Us.toFixed(0)} µs alone.`,
  ].join("\n");
}

/** Small ratios keep two significant digits, so that 1/500 does not print as 0.00. */
function ratio(value: number): string {
  return value >= 0.1 ? value.toFixed(2) : value.toPrecision(2);
}
