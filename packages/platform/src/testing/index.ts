export { freePort } from "./free-port.js";
export { eventContext, handleEvent, type StepStore } from "./inbox-step.js";
export {
  type NatsClusterHandle,
  type NatsClusterNode,
  type NatsClusterOptions,
  startNatsCluster,
} from "./nats-cluster.js";
export {
  canConnect,
  findNatsServer,
  type NatsServerHandle,
  NatsServerNotFoundError,
  type NatsServerOptions,
  startNatsServer,
} from "./nats-server.js";
export {
  findPostgresBinDir,
  PostgresNotFoundError,
  type PostgresServerHandle,
  type PostgresServerOptions,
  startPostgresServer,
} from "./postgres-server.js";
export { type BrokenRegistry, breakRegistry, deleteRegistryStream } from "./registry-faults.js";
export { type Truthy, type WaitForOptions, WaitTimeoutError, waitFor } from "./wait.js";
