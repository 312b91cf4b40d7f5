import { setMaxListeners } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import { createServiceImplSpec, type ServiceImpl, type ServiceImplSpec } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import {
  type ChannelOptions,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Logger } from "../log.js";
import type { MeshTls } from "../mesh-tls.js";
import { type AdminSources, createAdminService } from "./admin-service.js";
import { createServiceDefinition } from "./definition.js";
import { createFaultInjector, type FaultInjector } from "./faults.js";
import { createAccessGuard } from "./guard.js";
import { createMethodHandler } from "./handler.js";
import { addHealth } from "./health.js";
import { addReflection } from "./reflection.js";
import { DEFAULT_GRPC_SERVER_LIMITS, type GrpcServerLimits, limitChannelOptions } from "./server-limits.js";

/** A service and its implementation, ready to be served. Made by `implement`. */
export type ServiceRegistration = ServiceImplSpec;

/**
 * Pairs a generated service with its handlers, written exactly as for connect-node
 * (`ServiceImpl<typeof KitchenService>`), so a service's code does not depend on which server runs it.
 * The type checker holds the handlers to the contract; `serveGrpc` serves the result.
 */
export function implement<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceRegistration {
  return createServiceImplSpec(service, impl);
}

export interface GrpcServerOptions {
  /** Interface to bind, e.g. "127.0.0.1" or "0.0.0.0". */
  host: string;
  /** Port to bind; 0 picks a free one (read it back from `GrpcServer.port`). */
  port: number;
  log: Logger;
  services: readonly ServiceRegistration[];
  /** Largest request accepted; bigger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest response sent. Default 4 MiB (grpc-js alone would send any size). */
  maxSendMessageBytes?: number;
  /** How often to ping an idle connection to detect a dead peer. Default 60 s. */
  keepaliveTimeMs?: number;
  /** How long to wait for a ping's answer before closing the connection. Default 20 s. */
  keepaliveTimeoutMs?: number;
  /** What one client connection may hold: streams at once, pings, idleness, age (server-limits.ts). */
  limits?: GrpcServerLimits;
  /**
   * Report SERVING as soon as the port is bound (default). False leaves it NOT_SERVING until
   * `setServing(true)`: for a server that must finish starting (register itself, say) before callers come.
   */
  servingOnStart?: boolean;
  /**
   * What AdminService tells about this server besides its faults: its stats, the messages it sent, its dead
   * letters (admin-sources.ts builds them from a service's live objects). Without them it tells little.
   */
  admin?: AdminSources;
  /**
   * The secure mode (`config.tls`): mTLS with a client certificate of the mesh CA required on every connection,
   * and every call, health and reflection included, checked against proto/access.json (guard.ts). Without it
   * (the learner's mode) the server is plaintext and every caller is trusted.
   */
  tls?: MeshTls;
}

export interface GrpcServer {
  /** The bound port: the one asked for, or the one the OS chose for port 0. */
  readonly port: number;
  /** "host:port", ready for `createGrpcTransport`. */
  readonly address: string;
  /** Switches the health status of the server ("") and of every registered service. */
  setServing(serving: boolean): void;
  /** Calls `listener` on each change of the server's overall health, until the returned function is called. */
  onServingChange(listener: (serving: boolean) => void): () => void;
  /** Reports one aspect of the server under its own health name (see ServerHealth.setAspect). */
  setAspect(name: string, ok: boolean): void;
  /**
   * Reports NOT_SERVING, ends open server streams with UNAVAILABLE, lets in-flight unary calls finish for up
   * to `graceMs` (default 5000), then cuts the rest.
   */
  close(graceMs?: number): Promise<void>;
}

const MiB = 1024 * 1024;

/**
 * Starts a grpc-js server for `services`, together with the standard health and reflection services and
 * AdminService (run-time fault injection and the server's stats, see admin-service.ts), and resolves once it listens. Health reports
 * SERVING only after the port is bound. Every limit grpc-js leaves open or implicit (message sizes,
 * keepalive, streams per connection, connection idleness and age) is set here on purpose, so the numbers are
 * visible in one place.
 */
export async function serveGrpc(options: GrpcServerOptions): Promise<GrpcServer> {
  const { host, log, services } = options;
  const descriptors = services.map(({ service }) => service);
  const server = new Server({
    ...serverChannelOptions(options),
    interceptors: options.tls ? [createAccessGuard(log)] : [],
  });
  const faults = createFaultInjector();
  // Aborted by close(): ends open server streams (see createMethodHandler), which would hold shutdown up.
  const shutdown = new AbortController();
  // One listener per open call, removed when the call ends (handler.ts): their number is the calls in flight, so
  // twenty watchers of one order are no leak, and Node's warning past ten listeners would be a false alarm.
  setMaxListeners(0, shutdown.signal);
  for (const { service, methods } of services) {
    server.addService(withRawRequests(service), handlersOf(methods, log, faults, shutdown.signal));
  }
  // Fault injection for tests and demos, at run time. No fault applies to it (SetFault "*" with hang must
  // not lock out ClearFaults), and health does not report it; reflection describes it, so that an operator
  // can drive it with grpcurl. It is never routed to from outside (the gateway has no route to it).
  const admin = implement(AdminService, createAdminService(faults, options.admin));
  server.addService(withRawRequests(AdminService), handlersOf(admin.methods, log));
  const health = addHealth(
    server,
    descriptors.map((service) => service.typeName),
  );
  addReflection(server, [...descriptors, AdminService]);

  const port = await bind(server, `${host}:${options.port}`, serverCredentials(options.tls));
  const address = `${host}:${port}`;
  health.setServing(options.servingOnStart ?? true);
  const names = descriptors.map((service) => service.typeName);
  log.info({ address, services: names, mtls: options.tls !== undefined }, "grpc server listening");

  let closing: Promise<void> | undefined;
  return {
    port,
    address,
    setServing: (serving) => health.setServing(serving),
    onServingChange: (listener) => health.onServingChange(listener),
    setAspect: (name, ok) => health.setAspect(name, ok),
    close(graceMs = 5000) {
      // NOT_SERVING first, so that health checkers route new calls elsewhere while in-flight ones finish.
      health.setServing(false);
      shutdown.abort();
      closing ??= shutdownServer(server, graceMs).then(() => log.info({ address }, "grpc server closed"));
      return closing;
    },
  };
}

function serverChannelOptions(options: GrpcServerOptions): ChannelOptions {
  return {
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 4 * MiB,
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? 4 * MiB,
    "grpc.keepalive_time_ms": options.keepaliveTimeMs ?? 60_000,
    "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs ?? 20_000,
    ...limitChannelOptions(options.limits ?? DEFAULT_GRPC_SERVER_LIMITS),
  };
}

/**
 * The service's definition with request decoding left to the handler: grpc-js answers INTERNAL when
 * its deserializer throws, but a request that does not decode is the caller's fault (INVALID_ARGUMENT).
 */
function withRawRequests(service: DescService): ServiceDefinition {
  const definition = Object.entries(createServiceDefinition(service)).map(([name, method]) => [
    name,
    { ...method, requestDeserialize: (bytes: Buffer) => bytes },
  ]);
  return Object.fromEntries(definition);
}

function handlersOf(
  methods: ServiceImplSpec["methods"],
  log: Logger,
  faults?: FaultInjector,
  shutdown?: AbortSignal,
): UntypedServiceImplementation {
  return Object.fromEntries(
    Object.values(methods).map((spec) => [spec.method.name, createMethodHandler(spec, log, faults, shutdown)]),
  );
}

/** mTLS that requires and verifies a client certificate of the mesh CA, or plaintext in the learner's mode. */
function serverCredentials(tls: MeshTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.ca, [{ private_key: tls.key, cert_chain: tls.cert }], true);
}

/** Resolves with the bound port; a server that cannot bind (port taken) is shut down, not leaked. */
function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (!error) return resolve(port);
      server.forceShutdown();
      reject(error);
    });
  });
}

/** tryShutdown waits for in-flight calls (a stuck handler may never end), so it gets a deadline. */
function shutdownServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
