import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Jaeger, startJaeger } from "@ftgo/harness/jaeger.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { openSagaDatabases } from "@ftgo/harness/saga-audit.js";
import { SAGA_PATHS, type SagaPath } from "@ftgo/harness/saga-load.js";
import { connect } from "@nats-io/transport-node";
import { medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, Measurement, Suite } from "../lib/suite.js";
import { driveSagas, meshTarget } from "./saga/drive.js";
import { settled } from "./saga/mesh-round.js";
import { fileAtCommit } from "./saga/previous.js";
import { WARM_UP_ORDERS } from "./saga/settings.js";
import { measureUnary } from "./unary.js";

/*
 * What watching the mesh costs (issue 15): the same work with telemetry off (no OTLP endpoint: the SDK is not
 * loaded, spans are no-ops; metrics are counted but nobody scrapes) and on (every span exported over OTLP/HTTP
 * to a real Jaeger started here; /metrics served and, for the hop, scraped every second), in the same run:
 *   hop   one gRPC call through the platform's server and client, both in one child process per mode
 *   saga  the Create Order saga's approved path at full load, on a mesh of service processes per mode
 * And the platform's unary hop over bare grpc-js in this run, beside the same ratio at the commit before any
 * telemetry existed: what the instrumentation costs when nothing is exported.
 */

const HOP = fileURLToPath(new URL("./telemetry/hop.ts", import.meta.url));
/** The last commit without telemetry: its latest-unary.json holds the platform ÷ grpc-js ratio before it. */
const BEFORE_TELEMETRY = "0a3af3b";
const SAGA_ORDERS = 200;
const SAGA_IN_FLIGHT = 32;
/** The sampled contenders keep this share of traces (parent-based: a trace is kept or dropped whole). */
const SAMPLED = 0.1;

const run = promisify(execFile);

/** How a contender traces: not at all, every span, or one trace in ten (the SDK's standard sampler variables). */
type Tracing = "off" | "on" | "sampled";

function tracingEnv(tracing: Tracing, jaeger: Jaeger): Record<string, string> {
  if (tracing === "off") return {};
  const sampled = { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: String(SAMPLED) };
  return { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl, ...(tracing === "sampled" ? sampled : {}) };
}

async function measureHop(tracing: Tracing, jaeger: Jaeger, options: BenchOptions): Promise<Measurement> {
  const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: "", ...tracingEnv(tracing, jaeger) };
  const mode = tracing === "off" ? "off" : "on";
  const args = ["--import", "tsx", HOP, mode, String(options.seconds), String(options.warmupSeconds)];
  const { stdout } = await run(process.execPath, [...args, String(options.concurrency)], { env, timeout: 120_000 });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Measurement;
}

async function measureSaga(tracing: Tracing, jaeger: Jaeger): Promise<Measurement> {
  const env = tracing === "off" ? {} : { ...tracingEnv(tracing, jaeger), METRICS_PORT: "0" };
  const mesh = await startProcessMesh({ env });
  const clients = meshClients(mesh);
  const nc = await connect({ servers: mesh.nats.url });
  const dbs = openSagaDatabases(mesh.database.location);
  try {
    const open = { nc, dbs, mode: "choreography" as const };
    const approved = meshTarget(clients, [SAGA_PATHS[0] as SagaPath]);
    await settled(open, await driveSagas(nc, approved, { orders: WARM_UP_ORDERS, inFlight: WARM_UP_ORDERS }));
    return await settled(open, await driveSagas(nc, approved, { orders: SAGA_ORDERS, inFlight: SAGA_IN_FLIGHT }));
  } finally {
    await nc.close();
    clients.close();
    dbs.close();
    await mesh.stop();
  }
}

/** platform ÷ grpc-js calls/s in a saved unary result, at `commit`; undefined if it is not there. */
function unaryRatioAt(commit: string): number | undefined {
  try {
    const text = fileAtCommit(commit, "bench/results/latest-unary.json") ?? "";
    const { contenders } = JSON.parse(text) as { contenders: { name: string; median: Measurement }[] };
    const of = (name: string) => contenders.find((c) => c.name === name)?.median.callsPerSecond;
    const [platform, grpc] = [of("platform"), of("grpc-js")];
    return platform && grpc ? platform / grpc : undefined;
  } catch {
    return undefined;
  }
}

export const telemetry: Suite = {
  name: "telemetry",
  async run(options) {
    const jaeger = await startJaeger();
    try {
      const figures = new Map<string, Measurement[]>(
        ["hop-off", "hop-on", "hop-sampled", "saga-off", "saga-on", "saga-sampled", "grpc-js", "platform"].map(
          (name) => [name, []],
        ),
      );
      const record = (name: string, m: Measurement) => {
        figures.get(name)?.push(m);
        options.progress(`telemetry ${name}: ${Math.round(m.callsPerSecond)}/s, p50 ${m.p50Ms.toFixed(2)} ms`);
      };
      for (let round = 1; round <= options.rounds; round++) {
        record("grpc-js", await measureUnary("grpc-js", options));
        record("platform", await measureUnary("platform", options));
        record("hop-off", await measureHop("off", jaeger, options));
        record("hop-on", await measureHop("on", jaeger, options));
        record("hop-sampled", await measureHop("sampled", jaeger, options));
        record("saga-off", await measureSaga("off", jaeger));
        record("saga-on", await measureSaga("on", jaeger));
        record("saga-sampled", await measureSaga("sampled", jaeger));
      }
      const median = (name: string) => medianMeasurement(figures.get(name) ?? []);
      const contender = (name: string, label: string) => ({
        name,
        label,
        rounds: figures.get(name) ?? [],
        median: median(name),
      });
      const before = unaryRatioAt(BEFORE_TELEMETRY);
      const now = median("platform").callsPerSecond / median("grpc-js").callsPerSecond;
      return {
        suite: "telemetry",
        description:
          "What telemetry costs: one platform gRPC hop (client and server in one process) and the saga's approved path " +
          `(${SAGA_ORDERS} orders, ${SAGA_IN_FLIGHT} in flight, 5 service processes), with no OTLP endpoint (off) and ` +
          "with every span exported to a real Jaeger and /metrics served (on)",
        baseline: "hop-off",
        contenders: [
          contender("hop-off", "hop, telemetry off (no exporter: no-op spans, metrics counted)"),
          contender("hop-on", "hop, traced to Jaeger, /metrics scraped every second"),
          contender("hop-sampled", `hop, the same with ${100 * SAMPLED} % of traces sampled`),
          contender("saga-off", "saga approved path, telemetry off (orders/s)"),
          contender("saga-on", "saga approved path, traced to Jaeger (orders/s)"),
          contender("saga-sampled", `saga approved path, ${100 * SAMPLED} % of traces sampled (orders/s)`),
          contender("grpc-js", "unary GetMenu, bare grpc-js (server in a child process)"),
          contender("platform", "unary GetMenu, platform, telemetry off (same)"),
        ],
        goals: [
          { contender: "hop-on", atLeast: 0.9, label: "hop with telemetry on ÷ off" },
          { contender: "saga-on", over: "saga-off", atLeast: 0.9, label: "saga with telemetry on ÷ off" },
        ],
        comparisons: [
          { label: "saga, on ÷ off", contender: "saga-on", over: "saga-off" },
          { label: `saga, ${100 * SAMPLED} % sampled ÷ off`, contender: "saga-sampled", over: "saga-off" },
        ],
        notes: [
          `exporter unset: platform ÷ grpc-js ${now.toFixed(2)}× in this run` +
            (before === undefined
              ? `; no figure at ${BEFORE_TELEMETRY} to compare with`
              : `, ${before.toFixed(2)}× at ${BEFORE_TELEMETRY} (before telemetry): ${(now / before).toFixed(2)}× of it (goal ≥ 0.98×; two runs, so ±5 % is noise)`),
        ],
      };
    } finally {
      await jaeger.stop();
    }
  },
};
