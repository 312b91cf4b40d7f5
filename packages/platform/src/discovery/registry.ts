// Service discovery. Instances come and go (deploys, crashes, scaling), so a client cannot be told its
// targets' locations up front. Each service instance registers itself in a service registry on start
// (self-registration), keeps its entry alive while it is healthy, and removes it on shutdown; clients
// ask the registry for a service's healthy instances and pick one themselves (client-side discovery).
//
//   nats-kv  the embedded default: a JetStream KV bucket; entries live while their owner heartbeats
//   consul   Consul's catalog: the agent health-checks each instance over gRPC
//   static   a fixed list from configuration, for a mesh without either
import type { NatsConnection } from "@nats-io/transport-node";
import type { EnvReader } from "../config.js";
import type { Logger } from "../log.js";
import { createConsulRegistry, DEFAULT_CONSUL_ADDR } from "./consul.js";
import { InvalidInstanceError, type ServiceInstance, validateInstance } from "./instance.js";
import { createNatsKvRegistry } from "./nats-kv.js";
import { createStaticRegistry } from "./static.js";

export type RegistryKind = "nats-kv" | "consul" | "static";

/** One instance's entry in the registry, from self-registration until it is removed. */
export interface Registration {
  readonly instance: ServiceInstance;
  /** Stops keeping the entry alive and removes it at once, so no client picks it any more. Idempotent. */
  deregister(): Promise<void>;
}

export interface Registry {
  readonly kind: RegistryKind;
  /** Self-registration: enters `instance` and keeps it alive until deregister(). */
  register(instance: ServiceInstance): Promise<Registration>;
  /** The healthy instances of `service`, ordered by id; none is an empty list, not an error. */
  lookup(service: string): Promise<ServiceInstance[]>;
  /**
   * Calls `onChange` (always asynchronously) with the current healthy instances of `service`, then
   * with the whole new list after every change, until stop(). Lists are ordered by id.
   */
  watch(service: string, onChange: (instances: ServiceInstance[]) => void): { stop(): void };
  /** Deregisters what is still registered, stops every watch, releases the registry's own clients. */
  close(): Promise<void>;
}

export interface DiscoveryConfig {
  /** Which service registry. REGISTRY, default nats-kv. */
  readonly registry: RegistryKind;
  /** How long an entry outlives its last heartbeat (nats-kv). REGISTRY_TTL_MS, default 10000. */
  readonly ttlMs: number;
  /** How often a registration renews its entry: a third of the TTL, so two missed beats are forgiven. */
  readonly heartbeatMs: number;
  /** Consul's HTTP API, `host:port` or a URL. CONSUL_HTTP_ADDR, default 127.0.0.1:8500 (consul only). */
  readonly consulAddr?: string;
  /** STATIC_INSTANCES, `order=127.0.0.1:50051,kitchen=127.0.0.1:50053,…` (static only). */
  readonly staticInstances?: readonly ServiceInstance[];
}

export interface RegistryDeps {
  /** The service's NATS connection; needed by nats-kv. The registry uses it, never closes it. */
  readonly nc?: NatsConnection;
  readonly log: Logger;
}

const REGISTRY_KINDS = ["nats-kv", "consul", "static"] as const satisfies readonly RegistryKind[];

/**
 * Reads the service discovery settings, for use inside loadConfig's `extra`:
 * loadConfig calls it for every service. The service registry is NATS KV unless REGISTRY says consul or
 * static; a STATIC_INSTANCES value that cannot be parsed is reported with the other start-up problems.
 */
export function loadDiscoveryConfig(read: EnvReader): DiscoveryConfig {
  const registry = read.oneOf("REGISTRY", REGISTRY_KINDS, "nats-kv");
  const ttlMs = read.int("REGISTRY_TTL_MS", 10_000, 1_000);
  const config: DiscoveryConfig = { registry, ttlMs, heartbeatMs: Math.floor(ttlMs / 3) };
  switch (registry) {
    case "consul":
      return { ...config, consulAddr: read.string("CONSUL_HTTP_ADDR", DEFAULT_CONSUL_ADDR) };
    case "static": {
      const { instances, problems } = parseStaticInstances(read.string("STATIC_INSTANCES", ""));
      if (instances.length === 0 && problems.length === 0) problems.push("STATIC_INSTANCES is empty");
      for (const problem of problems) read.problem(problem);
      return { ...config, staticInstances: instances };
    }
    case "nats-kv":
      return config;
  }
}

/**
 * Opens the service registry that `config` names: the one place where a service chooses between NATS
 * KV, Consul and a static list. Everything after it (self-registration on start, client-side discovery
 * of other services, deregistration on shutdown) goes through the Registry interface and reads the
 * same whichever backend serves it.
 */
export async function createRegistry(config: DiscoveryConfig, deps: RegistryDeps): Promise<Registry> {
  const log = deps.log.child({ registry: config.registry });
  switch (config.registry) {
    case "nats-kv": {
      if (!deps.nc) throw new Error("the nats-kv registry needs a NATS connection (deps.nc)");
      return createNatsKvRegistry({ nc: deps.nc, ttlMs: config.ttlMs, heartbeatMs: config.heartbeatMs, log });
    }
    case "consul":
      return createConsulRegistry({ addr: config.consulAddr ?? DEFAULT_CONSUL_ADDR, log });
    case "static": {
      if (!config.staticInstances) throw new Error("the static registry needs config.staticInstances");
      return createStaticRegistry({ instances: config.staticInstances, log });
    }
  }
}

/**
 * Parses `service=host:port` pairs separated by commas into instances, numbering each service's
 * instances in order (`kitchen-1`, `kitchen-2`). A static list knows no versions: they read "unknown".
 */
export function parseStaticInstances(text: string): { instances: ServiceInstance[]; problems: string[] } {
  const instances: ServiceInstance[] = [];
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const item of text.split(",").map((part) => part.trim())) {
    if (item === "") continue;
    const match = /^([^=]+)=(.+):(\d+)$/.exec(item);
    if (!match) {
      problems.push(`STATIC_INSTANCES: ${JSON.stringify(item)} is not service=host:port`);
      continue;
    }
    const [, service = "", host = "", port = ""] = match;
    const n = (counts.get(service) ?? 0) + 1;
    counts.set(service, n);
    try {
      const address = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host; // [::1]:50051
      instances.push(
        validateInstance({ service, id: `${service}-${n}`, address, port: Number(port), version: "unknown", tags: [] }),
      );
    } catch (err) {
      if (!(err instanceof InvalidInstanceError)) throw err;
      problems.push(`STATIC_INSTANCES: ${JSON.stringify(item)}: ${err.problems.join("; ")}`);
    }
  }
  return { instances, problems };
}
