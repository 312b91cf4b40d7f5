// The README's benchmark table, rendered from the committed bench/results/latest-<suite>.json: the README shows
// the figures that are committed, never hand-copied ones. `npm run bench:readme` rewrites the table between its
// two markers after `npm run bench`; test/docs-benchmarks.test.ts fails when the README differs from it.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ContenderResult, Figure } from "./lib/suite.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const README_TABLE_START = "<!-- bench -->";
export const README_TABLE_END = "<!-- /bench -->";

/** What the table reads of a saved suite result. */
interface SavedResult {
  readonly suite: string;
  readonly timestamp: string;
  readonly machine: { readonly cores: number };
  readonly contenders: readonly ContenderResult[];
}

/** A row: a figure of one contender, and (if it has one) the same figure of its baseline in the same run. */
interface Row {
  readonly what: string;
  readonly suite: string;
  readonly contender: string;
  readonly figure: Figure;
  readonly baseline?: string;
  /** How the row names its baseline, after the ratio ("the bare pipeline"), or what it shows without one. */
  readonly versus: string;
}

const ROWS: readonly Row[] = [
  {
    what: "choreography, approved path",
    suite: "saga",
    contender: "saga-approved",
    figure: "callsPerSecond",
    baseline: "bare",
    versus: "the bare pipeline",
  },
  {
    what: "orchestration, 4 paths",
    suite: "saga",
    contender: "saga-orchestration",
    figure: "callsPerSecond",
    baseline: "saga",
    versus: "choreography",
  },
  {
    what: "one order alone",
    suite: "saga",
    contender: "saga-alone",
    figure: "p50Ms",
    baseline: "bare-alone",
    versus: "the bare pipeline",
  },
  { what: "outbox lag, 50 % load", suite: "saga", contender: "outbox-lag", figure: "p99Ms", versus: "goal ≤ 20 ms" },
  {
    what: "gateway composed view, ×64",
    suite: "gateway",
    contender: "gateway-details",
    figure: "p50Ms",
    baseline: "direct-fan-out",
    versus: "its legs in parallel",
  },
  {
    what: "saga, all spans to Jaeger",
    suite: "telemetry",
    contender: "saga-on",
    figure: "callsPerSecond",
    baseline: "saga-off",
    versus: "telemetry off",
  },
];

const UNIT: Record<Figure, (value: number) => string> = {
  callsPerSecond: (value) => `${value.toFixed(0)}/s`,
  p50Ms: (value) => `p50 ${value.toFixed(1)} ms`,
  p99Ms: (value) => `p99 ${value.toFixed(1)} ms`,
};

/** The table (Markdown, between the markers) for these saved results, keyed by suite name. */
export function renderReadmeTable(results: Readonly<Record<string, SavedResult>>): string {
  const figureOf = (suite: string, name: string, figure: Figure) => {
    const result = results[suite];
    if (!result) throw new Error(`bench/results/latest-${suite}.json is missing: run npm run bench -- ${suite}`);
    const contender = result.contenders.find((c) => c.name === name);
    if (!contender) throw new Error(`latest-${suite}.json has no contender ${name}: run npm run bench -- ${suite}`);
    return contender.median[figure];
  };
  const lines = ROWS.map((row) => {
    const value = figureOf(row.suite, row.contender, row.figure);
    const ratio = row.baseline ? `${(value / figureOf(row.suite, row.baseline, row.figure)).toFixed(2)}× ` : "";
    return `| ${row.what} | ${UNIT[row.figure](value)} | ${ratio}${row.versus} |`;
  });
  const suites = [...new Set(ROWS.map((row) => row.suite))].map((suite) => results[suite] as SavedResult);
  const dates = [...new Set(suites.map((result) => result.timestamp.slice(0, 10)))].sort().join(", ");
  const cores = [...new Set(suites.map((result) => result.machine.cores))].join("/");
  return [
    README_TABLE_START,
    `| ${cores} cores, ${dates} | here | same run |`,
    "|---|---|---|",
    ...lines,
    README_TABLE_END,
  ].join("\n");
}

/** The committed results of the suites the table shows. */
export function loadSavedResults(root = ROOT): Record<string, SavedResult> {
  const suites = [...new Set(ROWS.map((row) => row.suite))];
  return Object.fromEntries(
    suites.map((suite) => [
      suite,
      JSON.parse(readFileSync(`${root}/bench/results/latest-${suite}.json`, "utf8")) as SavedResult,
    ]),
  );
}

/** The README with its table replaced; throws if the markers are missing. */
export function withReadmeTable(readme: string, table: string): string {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md needs ${README_TABLE_START} … ${README_TABLE_END}`);
  return readme.slice(0, start) + table + readme.slice(end + README_TABLE_END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = `${ROOT}/README.md`;
  writeFileSync(file, withReadmeTable(readFileSync(file, "utf8"), renderReadmeTable(loadSavedResults())));
  process.stdout.write("README.md: benchmark table rewritten from bench/results/latest-*.json\n");
}
