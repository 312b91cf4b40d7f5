// Accounting Service's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadAccountingConfig, startAccounting } from "./app.js";

const config = loadAccountingConfig(process.env);
const log = createLogger(config);
const accounting = await startAccounting(config, log);
onShutdown(log, accounting.stop);
