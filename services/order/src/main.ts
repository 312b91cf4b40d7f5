// Order Service's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadOrderConfig, startOrder } from "./app.js";

const config = loadOrderConfig(process.env);
const log = createLogger(config);
const order = await startOrder(config, log);
onShutdown(log, order.stop);
