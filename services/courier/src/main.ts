// A courier's composition root: config → logger → tracing, metrics → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown, serveMetrics, startTracing } from "@ftgo/platform";
import { loadCourierConfig, startCourier } from "./app.js";

const config = loadCourierConfig(process.env);
const log = createLogger(config);
const tracing = await startTracing(config.service, process.env);
const metrics = await serveMetrics(process.env, log); // GET /metrics at METRICS_PORT, if set
const courier = await startCourier(config, log);
onShutdown(log, async () => {
  await courier.stop();
  await metrics.close();
  await tracing.shutdown(); // last: the spans of the stop itself go out too
});
