import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, release } from "node:os";
import { join } from "node:path";
import type { BenchOptions, Comparison, ContenderResult, Figure, Goal, SuiteResult } from "./suite.js";

/** Where results are kept: one file per run, plus `latest-<suite>.json` for the most recent one. */
export const RESULTS_DIR = new URL("../results/", import.meta.url).pathname;

/** A contender's median figures divided by the baseline's: > 1 is more throughput, or more latency. */
export interface Ratios {
  readonly callsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export interface GoalVerdict extends Goal {
  /** What was checked: the ratio of the two figures, or the figure itself for an absolute goal. */
  readonly ratio: number;
  readonly met: boolean;
}

/** The table for people: median figures per contender, their ratios to the baseline, and the goals. */
export function formatReport(result: SuiteResult, options: BenchOptions): string {
  const machine = describeMachine();
  const header = ["contender", "calls/s", "p50 ms", "p99 ms", "× calls/s", "× p50", "× p99"];
  const rows = result.contenders.map((c) => {
    const r = ratiosOf(result, c);
    const m = c.median;
    return [
      c.label,
      fixed(m.callsPerSecond, 0),
      fixed(m.p50Ms, 2),
      fixed(m.p99Ms, 2),
      ...[r.callsPerSecond, r.p50, r.p99].map((x) => fixed(x, 2)),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join("   ");
  const baseline = contender(result, result.baseline);
  return [
    `${result.suite}: ${result.description}`,
    `${options.concurrency} in flight · ${options.warmupSeconds} s warm-up + ${options.seconds} s × ${options.rounds} round(s), median · ${machine.node} · ${machine.cpu} × ${machine.cores}`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    `ratios are to ${baseline.label}; goals are informative, never a test.`,
    ...goalsTable(result),
    ...comparisonsOf(result).map(
      (c) =>
        `${c.label}: × calls/s ${fixed(c.ratios.callsPerSecond, 2)}, × p50 ${fixed(c.ratios.p50, 2)}, × p99 ${fixed(c.ratios.p99, 2)}`,
    ),
    ...(result.notes ?? []),
  ].join("\n");
}

/** The goals as a table: figure | this run | goal | met? (none when the suite has no goals). */
function goalsTable(result: SuiteResult): string[] {
  const verdicts = verdictsOf(result);
  if (verdicts.length === 0) return [];
  const rows = verdicts.map((g) => [
    goalLabel(result, g),
    shown(g, g.ratio),
    [g.atLeast === undefined ? "" : `≥ ${shown(g, g.atLeast)}`, g.atMost === undefined ? "" : `≤ ${shown(g, g.atMost)}`]
      .filter(Boolean)
      .join(" and "),
    g.met ? "PASS" : "BELOW GOAL",
  ]);
  const header = ["figure", "this run", "goal", "met?"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(" | ");
  return ["", line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

const FIGURE_NAMES: Readonly<Record<Figure, string>> = { callsPerSecond: "calls/s", p50Ms: "p50", p99Ms: "p99" };

function goalLabel(result: SuiteResult, g: Goal): string {
  if (g.label) return g.label;
  const figure = FIGURE_NAMES[g.figure ?? "callsPerSecond"];
  const of = contender(result, g.contender).label;
  return g.absolute ? `${of} ${figure}` : `${of} ÷ ${contender(result, g.over ?? result.baseline).label}, ${figure}`;
}

/** A goal's value as the table shows it: a ratio with ×, an absolute latency in ms, an absolute rate per second. */
function shown(g: Goal, value: number): string {
  if (!g.absolute) return `${fixed(value, 2)}×`;
  return (g.figure ?? "callsPerSecond") === "callsPerSecond" ? `${fixed(value, 0)}/s` : `${fixed(value, 1)} ms`;
}

/**
 * The record for comparing runs later: settings, machine, every round's raw figures, medians, ratios
 * and goals. Writes `<suite>-<timestamp>.json` and overwrites `latest-<suite>.json`; returns both paths.
 */
export async function saveReport(result: SuiteResult, options: BenchOptions, at = new Date()): Promise<string[]> {
  const { seconds, warmupSeconds, concurrency, rounds } = options;
  const json = {
    suite: result.suite,
    description: result.description,
    timestamp: at.toISOString(),
    machine: describeMachine(),
    settings: { seconds, warmupSeconds, concurrency, rounds },
    baseline: result.baseline,
    contenders: result.contenders.map((c) => ({ ...c, ratios: ratiosOf(result, c) })),
    goals: verdictsOf(result),
    ...(result.comparisons ? { comparisons: comparisonsOf(result) } : {}),
    ...(result.notes ? { notes: result.notes } : {}),
  };
  const text = `${JSON.stringify(json, null, 2)}\n`;
  // Colons are not allowed in Windows file names; the ISO timestamp keeps its order without them.
  const stamp = at
    .toISOString()
    .replaceAll(":", "-")
    .replace(/\.\d+Z$/, "Z");
  const paths = [join(RESULTS_DIR, `${result.suite}-${stamp}.json`), join(RESULTS_DIR, `latest-${result.suite}.json`)];
  await mkdir(RESULTS_DIR, { recursive: true });
  await Promise.all(paths.map((path) => writeFile(path, text)));
  return paths;
}

function ratiosOf(result: SuiteResult, c: ContenderResult, over = result.baseline): Ratios {
  const base = contender(result, over).median;
  return {
    callsPerSecond: c.median.callsPerSecond / base.callsPerSecond,
    p50: c.median.p50Ms / base.p50Ms,
    p99: c.median.p99Ms / base.p99Ms,
  };
}

function comparisonsOf(result: SuiteResult): (Comparison & { ratios: Ratios })[] {
  return (result.comparisons ?? []).map((c) => ({
    ...c,
    ratios: ratiosOf(result, contender(result, c.contender), c.over),
  }));
}

/** Each goal of `result` checked against its contenders' medians. */
export function verdictsOf(result: SuiteResult): GoalVerdict[] {
  return result.goals.map((goal) => {
    const figure = goal.figure ?? "callsPerSecond";
    const value = contender(result, goal.contender).median[figure];
    const ratio = goal.absolute ? value : value / contender(result, goal.over ?? result.baseline).median[figure];
    const met =
      (goal.atLeast === undefined || ratio >= goal.atLeast) && (goal.atMost === undefined || ratio <= goal.atMost);
    return { ...goal, ratio, met };
  });
}

function contender(result: SuiteResult, name: string): ContenderResult {
  const found = result.contenders.find((c) => c.name === name);
  if (!found) throw new Error(`suite ${result.suite} has no contender named ${name}`);
  return found;
}

function describeMachine() {
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? "unknown cpu",
    cores: availableParallelism(),
    os: `${process.platform} ${release()}`,
  };
}

function fixed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
