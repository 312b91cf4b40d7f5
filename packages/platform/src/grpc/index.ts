export type { AdminSources, DeadLetterDesk } from "./admin-service.js";
export { type CallContext, currentCall, REQUEST_ID_HEADER } from "./call-context.js";
export {
  createGrpcClient,
  createGrpcTransport,
  type GrpcTransport,
  type GrpcTransportOptions,
} from "./client.js";
export { createMethodDefinition, createServiceDefinition } from "./definition.js";
export { OUTBOX_HEALTH } from "./health.js";
export {
  type GrpcServer,
  type GrpcServerOptions,
  implement,
  type ServiceRegistration,
  serveGrpc,
} from "./server.js";
export {
  DEFAULT_GRPC_SERVER_LIMITS,
  type GrpcServerLimits,
  loadGrpcServerLimits,
} from "./server-limits.js";
export { toConnectError } from "./status.js";
