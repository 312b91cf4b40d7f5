// Kitchen Service's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadKitchenConfig, startKitchen } from "./app.js";

const config = loadKitchenConfig(process.env);
const log = createLogger(config);
const kitchen = await startKitchen(config, log);
onShutdown(log, kitchen.stop);
