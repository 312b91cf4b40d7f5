// The API gateway's composition root: config → logger → start → stop on SIGTERM/SIGINT.
import { createLogger, onShutdown } from "@ftgo/platform";
import { loadGatewayConfig, startGateway } from "./app.js";

const config = loadGatewayConfig(process.env);
const log = createLogger(config);
const gateway = await startGateway(config, log);
onShutdown(log, gateway.stop);
