// Consumer Service's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadConsumerConfig, startConsumer } from "./app.js";

const config = loadConsumerConfig(process.env);
const log = createLogger(config);
const consumer = await startConsumer(config, log);
onShutdown(log, consumer.stop);
