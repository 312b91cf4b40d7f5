// A courier's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadCourierConfig, startCourier } from "./app.js";

const config = loadCourierConfig(process.env);
const log = createLogger(config);
const courier = await startCourier(config, log);
onShutdown(log, courier.stop);
