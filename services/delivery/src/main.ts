// Delivery Service's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadDeliveryConfig, startDelivery } from "./app.js";

const config = loadDeliveryConfig(process.env);
const log = createLogger(config);
const delivery = await startDelivery(config, log);
onShutdown(log, delivery.stop);
