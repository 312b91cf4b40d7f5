// `npm run bench [-- <suite>...]`: runs the named suites (all by default), prints each one's table on
// stdout and saves its JSON under bench/results/. Progress goes to stderr.
import { killServerChildren } from "./lib/child.js";
import { formatReport, saveReport } from "./lib/report.js";
import type { BenchOptions, Suite } from "./lib/suite.js";
import { database } from "./suites/database.js";
import { discovery } from "./suites/discovery.js";
import { gateway } from "./suites/gateway.js";
import { mesh } from "./suites/mesh.js";
import { polyglot } from "./suites/polyglot.js";
import { type SagaSuiteSettings, sagaSuite } from "./suites/saga.js";
import { scaleSuite } from "./suites/scale.js";
import { startup } from "./suites/startup.js";
import { telemetry } from "./suites/telemetry.js";
import { unary } from "./suites/unary.js";

/** BENCH_* variables, each a positive number, all problems reported at once. */
function readOptions(env: NodeJS.ProcessEnv): BenchOptions & { saga: SagaSuiteSettings } {
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
    saga: {
      orders: read("BENCH_SAGA_ORDERS", 300, true),
      inFlight: read("BENCH_SAGA_IN_FLIGHT", 32, true),
      compareWith: env.BENCH_COMPARE_WITH || undefined,
    },
  };
  if (problems.length > 0) throw new Error(`invalid benchmark settings:\n  ${problems.join("\n  ")}`);
  return options;
}

function selectSuites(suites: readonly Suite[], names: readonly string[]): Suite[] {
  if (names.length === 0) return [...suites];
  const unknown = names.filter((name) => !suites.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown suite(s) ${unknown.join(", ")}; known: ${suites.map((s) => s.name).join(", ")}`);
  }
  return suites.filter((suite) => names.includes(suite.name));
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
  const suites: readonly Suite[] = [
    unary,
    mesh,
    discovery,
    sagaSuite(options.saga),
    scaleSuite(options.saga),
    database,
    gateway,
    polyglot,
    startup,
    telemetry,
  ];
  for (const suite of selectSuites(suites, process.argv.slice(2))) {
    const result = await suite.run(options);
    process.stdout.write(`\n${formatReport(result, options)}\n`);
    for (const path of await saveReport(result, options)) process.stderr.write(`saved ${path}\n`);
  }
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
