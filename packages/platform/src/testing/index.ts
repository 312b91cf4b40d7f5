export { eventContext, handleEvent, type StepStore } from "./inbox-step.js";
export {
  canConnect,
  findNatsServer,
  type NatsServerHandle,
  NatsServerNotFoundError,
  type NatsServerOptions,
  startNatsServer,
} from "./nats-server.js";
export { type Truthy, type WaitForOptions, WaitTimeoutError, waitFor } from "./wait.js";
