// Kitchen Service's composition root: config → logger → tracing, metrics → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown, serveMetrics, startTracing } from "@ftgo/platform";
import { loadKitchenConfig, startKitchen } from "./app.js";

const config = loadKitchenConfig(process.env);
const log = createLogger(config);
const tracing = await startTracing(config.service, process.env);
const metrics = await serveMetrics(process.env, log); // GET /metrics at METRICS_PORT, if set
const kitchen = await startKitchen(config, log);
onShutdown(log, async () => {
  await kitchen.stop();
  await metrics.close();
  await tracing.shutdown(); // last: the spans of the stop itself go out too
});
