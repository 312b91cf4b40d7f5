// The public surface of @ftgo/platform: what services may use. Test helpers live in "@ftgo/platform/testing".

export {
  type AdminSourcesOptions,
  createAdminSources,
  type RecordedSagaMove,
  type SagaMovesReader,
} from "./admin-sources.js";
export {
  type ChangeCodec,
  type ChangeFeed,
  type ChangeFeedOptions,
  createChangeFeed,
  type Watch,
} from "./change-feed.js";
export { type BaseConfig, ConfigError, loadConfig, SAGA_MODES, type SagaMode } from "./config.js";
export {
  type Database,
  type DatabaseLocation,
  databaseLocation,
  type Engine,
  hasTable,
  MissingDatabaseError,
  openDatabase,
  openExistingDatabase,
  type Statement,
} from "./db.js";
export * from "./discovery/index.js";
export type { Env, EnvReader } from "./env.js";
export {
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "./errors.js";
export * from "./grpc/index.js";
export { createLogger, type LogConfig, type Logger, REDACTED, silentLogger } from "./log.js";
export { loadMeshTls, MESH_TLS_VARIABLES, type MeshTls } from "./mesh-tls.js";
export * from "./messaging/index.js";
export { DEFAULT_CURRENCY, money } from "./money.js";
export { type Participant, type ParticipantOptions, startParticipant } from "./participant.js";
export { createPause, type Pause } from "./pause.js";
export * from "./resilience/index.js";
export {
  COURIERS,
  type CourierTerms,
  defaultPort,
  GATEWAY,
  GO_SERVICES,
  type GoServiceName,
  MESH_SERVICES,
  METRICS_PORTS,
  type MeshServiceName,
  SERVICE_NAMES,
  SERVICES,
  type ServiceEntry,
  type ServiceName,
} from "./roster.js";
export { type RunningService, type SagaServiceOptions, startSagaService } from "./saga-service.js";
export { onShutdown, type ShutdownOptions } from "./shutdown.js";
export {
  createStateHistory,
  createStateMachine,
  type StateHistory,
  type StateMachine,
  type StateTransition,
  type Transitions,
} from "./state-machine.js";
export { runStopSteps, ShutdownError, type StopStep } from "./stop-steps.js";
export * from "./telemetry/index.js";
export { assertWithinLimits, describeViolations } from "./validation.js";
