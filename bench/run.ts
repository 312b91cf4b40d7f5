// `npm run bench [-- <suite>...]`: runs the named suites (all by default), prints each one's table on
// stdout and saves its JSON under bench/results/. Progress goes to stderr.
import { killServerChildren } from "./lib/child.js";
import { formatReport, saveReport } from "./lib/report.js";
import type { BenchOptions, Suite } from "./lib/suite.js";
import { unary } from "./suites/unary.js";

const SUITES: readonly Suite[] = [unary];

/** BENCH_* variables, each a positive number, all problems reported at once. */
function readOptions(env: NodeJS.ProcessEnv): BenchOptions {
  const problems: string[] = [];
  const read = (key: string, fallback: number, integer = false) => {
    const raw = env[key];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!(value > 0) || (integer && !Number.isInteger(value))) {
      problems.push(`${key}=${raw} is not a positive ${integer ? "integer" : "number"}`);
    }
    return value;
  };
  const options = {
    seconds: read("BENCH_SECONDS", 5),
    warmupSeconds: read("BENCH_WARMUP_SECONDS", 2),
    concurrency: read("BENCH_CONCURRENCY", 64, true),
    rounds: read("BENCH_ROUNDS", 2, true),
    progress: (line: string) => process.stderr.write(`${line}\n`),
  };
  if (problems.length > 0) throw new Error(`invalid benchmark settings:\n  ${problems.join("\n  ")}`);
  return options;
}

function selectSuites(names: readonly string[]): Suite[] {
  if (names.length === 0) return [...SUITES];
  const unknown = names.filter((name) => !SUITES.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown suite(s) ${unknown.join(", ")}; known: ${SUITES.map((s) => s.name).join(", ")}`);
  }
  return SUITES.filter((suite) => names.includes(suite.name));
}

// Whatever ends this process, its server children end with it.
process.once("exit", killServerChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping\n`);
    process.exit(130);
  });
}

try {
  const options = readOptions(process.env);
  for (const suite of selectSuites(process.argv.slice(2))) {
    const result = await suite.run(options);
    process.stdout.write(`\n${formatReport(result, options)}\n`);
    for (const path of await saveReport(result, options)) process.stderr.write(`saved ${path}\n`);
  }
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
