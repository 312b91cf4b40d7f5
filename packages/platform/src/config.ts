import { resolve } from "node:path";
import { type DiscoveryConfig, loadDiscoveryConfig } from "./discovery/discovery-config.js";
import { createEnvReader, type Env, type EnvReader } from "./env.js";
import { type GrpcServerLimits, loadGrpcServerLimits } from "./grpc/server-limits.js";
import { loadMeshTls, type MeshTls } from "./mesh-tls.js";

/** The settings every ftgo-mesh process has. Services extend it with their own (see loadConfig's `extra`). */
export interface BaseConfig {
  /** Service name: "order", "kitchen", … Tags every log line. */
  readonly service: string;
  /** Interface the gRPC server binds to. FTGO_HOST, default 127.0.0.1. */
  readonly host: string;
  /** gRPC port; 0 picks a free one. PORT, default per service (order 50051 … delivery 50055). */
  readonly port: number;
  /** Where SQLite files live. DATA_DIR, default ./data. */
  readonly dataDir: string;
  /**
   * A PostgreSQL database (DATABASE_URL, `postgres://…`) in which each service keeps its own schema, instead of
   * a SQLite file in dataDir; absent (the default), SQLite. See databaseLocation().
   */
  readonly databaseUrl: string | undefined;
  /** NATS server, or a cluster's servers comma-separated (natsServers). NATS_URL, default nats://127.0.0.1:4222. */
  readonly natsUrl: string;
  /** pino level. LOG_LEVEL, default info. */
  readonly logLevel: string;
  /**
   * How many partitions event subjects are split into by order id (FTGO_PARTITIONS, default 4). The same
   * for every service of a mesh: it fixes which durable consumer sees an order's messages.
   */
  readonly partitions: number;
  /**
   * How many copies of each stream (and of the registry bucket) JetStream keeps, on as many servers of a cluster
   * (FTGO_STREAM_REPLICAS, default 1: a single nats-server). 3 on a three-node cluster survives losing one node.
   */
  readonly streamReplicas: number;
  /**
   * How the Create Order and Cancel Order sagas are coordinated, the same for the whole mesh (SAGA_MODE,
   * default choreography): participants exchange events (choreography), or Order's orchestrator sends
   * them commands and awaits their replies (orchestration).
   */
  readonly sagaMode: SagaMode;
  /** The address other services reach this one at, as registered. FTGO_ADVERTISE_HOST, default the bind host. */
  readonly advertiseHost: string;
  /** Which service registry this service registers in and discovers others from (REGISTRY, …). */
  readonly discovery: DiscoveryConfig;
  /** What one client connection may hold of the gRPC server (GRPC_MAX_CONCURRENT_STREAMS, …; server-limits.ts). */
  readonly grpcServer: GrpcServerLimits;
  /**
   * The secure mode's certificates (FTGO_TLS_CA, FTGO_TLS_CERT, FTGO_TLS_KEY; mesh-tls.ts): mTLS on every gRPC
   * call and TLS to NATS. Undefined in the learner's mode, where every local caller is trusted.
   */
  readonly tls: MeshTls | undefined;
}

/** The two ways to coordinate a saga (see BaseConfig.sagaMode). */
export const SAGA_MODES = ["choreography", "orchestration"] as const;
export type SagaMode = (typeof SAGA_MODES)[number];

/** Thrown by loadConfig with every invalid variable named, one per line. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Builds a service's frozen, typed configuration from an environment. Only a `main.ts` passes
 * `process.env`; tests pass a literal object. Every missing or invalid variable is reported in one
 * ConfigError, so a wrong start-up is fixed in one round.
 *
 * ```ts
 * const config = loadConfig(process.env, { service: "order", port: 50051 }, (read) => ({
 *   policies: loadPolicyConfig(read, ["kitchen"]),
 * }));
 * ```
 */
export function loadConfig<Extra extends object = Record<never, never>>(
  env: Env,
  defaults: { service: string; port: number },
  extra?: (read: EnvReader) => Extra,
): Readonly<BaseConfig & Extra> {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const base: BaseConfig = {
    service: defaults.service,
    host: read.string("FTGO_HOST", "127.0.0.1"),
    port: read.port("PORT", defaults.port),
    dataDir: resolve(read.string("DATA_DIR", "./data")),
    databaseUrl: readDatabaseUrl(read.string("DATABASE_URL", ""), problems),
    natsUrl: read.string("NATS_URL", "nats://127.0.0.1:4222"),
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    partitions: read.int("FTGO_PARTITIONS", 4, 1),
    streamReplicas: read.int("FTGO_STREAM_REPLICAS", 1, 1),
    sagaMode: read.oneOf("SAGA_MODE", SAGA_MODES, "choreography"),
    advertiseHost: read.string("FTGO_ADVERTISE_HOST", ""),
    discovery: loadDiscoveryConfig(read),
    grpcServer: loadGrpcServerLimits(read),
    tls: loadMeshTls(read),
  };
  // A server bound to every interface is reached through loopback on this machine.
  const advertiseHost = base.advertiseHost || (["0.0.0.0", "::"].includes(base.host) ? "127.0.0.1" : base.host);
  const more = extra ? extra(read) : ({} as Extra);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...base, advertiseHost, ...more });
}

/** DATABASE_URL: empty for SQLite, else a PostgreSQL URL (the one other engine the stores run on). */
function readDatabaseUrl(value: string, problems: string[]): string | undefined {
  if (value === "") return undefined;
  if (/^postgres(ql)?:\/\//.test(value)) return value;
  problems.push(
    `DATABASE_URL must be a PostgreSQL URL (postgres://user@host:port/database), or unset for SQLite; got ${JSON.stringify(value.replace(/:[^:@/]*@/, ":***@"))}`,
  );
  return undefined;
}
