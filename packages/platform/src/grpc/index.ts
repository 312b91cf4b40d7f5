export {
  ACCESS_TABLE,
  type AccessTable,
  ANY_PEER,
  accessRule,
  GATEWAY_AS_ADMIN,
  MESH_ROLES,
  mayCall,
} from "./access.js";
export { type ActingFor, actingFor } from "./acting-for.js";
export type { AdminSources, DeadLetterDesk } from "./admin-service.js";
export { type CallContext, currentCall, REQUEST_ID_HEADER } from "./call-context.js";
export {
  createGrpcClient,
  createGrpcTransport,
  type GrpcTransport,
  type GrpcTransportOptions,
} from "./client.js";
export { createMethodDefinition, createServiceDefinition } from "./definition.js";
export {
  END_USER_AUDIENCE,
  END_USER_HEADER,
  type EndUser,
  EndUserClaimError,
  signEndUser,
  verifyEndUser,
} from "./end-user.js";
export { callerOf, createAccessGuard, type MeshCaller } from "./guard.js";
export { OUTBOX_HEALTH } from "./health.js";
export { describePeer, type MeshPeer, peerOf } from "./peer.js";
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
