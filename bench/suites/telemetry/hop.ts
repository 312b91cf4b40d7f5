// One mesh hop, server and client in this process, measured with telemetry as the mode says:
// `node --import tsx bench/suites/telemetry/hop.ts <off|on> <seconds> <warmup seconds> <concurrency>`.
//   off  no OTLP endpoint: the Node SDK is not loaded; every span is the API's no-op one (the default)
//   on   OTEL_EXPORTER_OTLP_ENDPOINT (given by the suite: a real Jaeger): every call's client and server spans
//        exported; /metrics served at a free port and scraped every second, as Prometheus would
// Prints one line: the measurement, as JSON. A process of its own per mode: the SDK registers itself globally.
import { serveMetrics, silentLogger, startTracing } from "@ftgo/platform";
import { runLoad } from "../../lib/load.js";
import { HOST } from "../unary/contenders.js";
import { connect, serve } from "../unary/platform.js";

const [mode = "", seconds = "5", warmupSeconds = "2", concurrency = "64"] = process.argv.slice(2);
if (mode !== "off" && mode !== "on") throw new Error(`usage: hop.ts <off|on> <seconds> <warmup> <concurrency>`);
const log = silentLogger();
const tracing = await startTracing("bench-hop", mode === "on" ? process.env : {});
if (mode === "on" && !tracing.exporting) throw new Error("mode on needs OTEL_EXPORTER_OTLP_ENDPOINT");
const metrics = await serveMetrics(mode === "on" ? { METRICS_PORT: "0" } : {}, log);
// The unary suite's platform contender, exactly: the same server and client, here in one process.
const server = await serve();
const client = connect(`${HOST}:${server.port}`);
const scraper = metrics.url
  ? setInterval(() => void fetch(metrics.url as string).then((r) => r.text()), 1_000)
  : undefined;
try {
  const measurement = await runLoad(() => client.getMenu(), {
    seconds: Number(seconds),
    warmupSeconds: Number(warmupSeconds),
    concurrency: Number(concurrency),
  });
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
} finally {
  clearInterval(scraper);
  client.close();
  await server.close();
  await metrics.close();
  await tracing.shutdown();
}
