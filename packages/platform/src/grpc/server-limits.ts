// What one client connection may hold of a gRPC server: how many calls at once, how often it may ping, how long it
// may sit idle or live at all. grpc-js leaves each unlimited (or, for pings, unchecked), so a single connection
// could open streams until the process runs out of memory, or hold a socket forever; here each has a number.
import type { ChannelOptions } from "@grpc/grpc-js";
import type { EnvReader } from "../env.js";

export interface GrpcServerLimits {
  /**
   * Calls (HTTP/2 streams) one connection may have open at once (GRPC_MAX_CONCURRENT_STREAMS, default 1000). Past
   * it the client's HTTP/2 layer holds new calls back until one ends: one client's flood of watchers queues on its
   * own connection and leaves other connections alone. High enough that the gateway, one client carrying many
   * users' event streams, is not the one held back.
   */
  readonly maxConcurrentStreams: number;
  /**
   * The shortest interval between a client's keepalive pings the server accepts (GRPC_MIN_PING_INTERVAL_MS,
   * default 30000: under our clients' 60 s), and whether it accepts pings on a connection with no call open
   * (GRPC_PERMIT_PINGS_WITHOUT_CALLS, 0 or 1, default 0, as our clients never send them).
   */
  readonly minPingIntervalMs: number;
  readonly permitPingsWithoutCalls: boolean;
  /** A connection with no call open this long is closed (GRPC_MAX_CONNECTION_IDLE_MS, default 5 minutes). */
  readonly maxConnectionIdleMs: number;
  /**
   * A connection this old is asked to go away, so that clients reconnect and spread over new instances
   * (GRPC_MAX_CONNECTION_AGE_MS, default 30 minutes); its open calls then have the grace period to end before
   * they are cut (GRPC_MAX_CONNECTION_AGE_GRACE_MS, default 15 minutes: the longest the gateway holds an event
   * stream, SSE_MAX_MS).
   */
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
}

export const DEFAULT_GRPC_SERVER_LIMITS: GrpcServerLimits = Object.freeze({
  maxConcurrentStreams: 1000,
  minPingIntervalMs: 30_000,
  permitPingsWithoutCalls: false,
  maxConnectionIdleMs: 5 * 60_000,
  maxConnectionAgeMs: 30 * 60_000,
  maxConnectionAgeGraceMs: 15 * 60_000,
});

/** The limits from the environment (the GRPC_* variables above), each with its default. */
export function loadGrpcServerLimits(read: EnvReader): GrpcServerLimits {
  const d = DEFAULT_GRPC_SERVER_LIMITS;
  return {
    maxConcurrentStreams: read.int("GRPC_MAX_CONCURRENT_STREAMS", d.maxConcurrentStreams, 1),
    minPingIntervalMs: read.int("GRPC_MIN_PING_INTERVAL_MS", d.minPingIntervalMs, 0),
    permitPingsWithoutCalls: read.oneOf("GRPC_PERMIT_PINGS_WITHOUT_CALLS", ["0", "1"], "0") === "1",
    maxConnectionIdleMs: read.int("GRPC_MAX_CONNECTION_IDLE_MS", d.maxConnectionIdleMs, 1),
    maxConnectionAgeMs: read.int("GRPC_MAX_CONNECTION_AGE_MS", d.maxConnectionAgeMs, 1),
    maxConnectionAgeGraceMs: read.int("GRPC_MAX_CONNECTION_AGE_GRACE_MS", d.maxConnectionAgeGraceMs, 0),
  };
}

/**
 * The grpc-js server options for `limits`. grpc-js 1.14 enforces the stream limit, idleness and age; it reads the
 * two ping options on a client only, so they are passed for the record (and for a grpc-js that enforces them), while
 * Node's HTTP/2 layer already closes a connection that floods pings faster than it takes their answers.
 */
export function limitChannelOptions(limits: GrpcServerLimits): ChannelOptions {
  return {
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    "grpc.http2.min_ping_interval_without_data_ms": limits.minPingIntervalMs,
    "grpc.http2.min_time_between_pings_ms": limits.minPingIntervalMs,
    "grpc.keepalive_permit_without_calls": limits.permitPingsWithoutCalls ? 1 : 0,
    "grpc.max_connection_idle_ms": limits.maxConnectionIdleMs,
    "grpc.max_connection_age_ms": limits.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": limits.maxConnectionAgeGraceMs,
  };
}
