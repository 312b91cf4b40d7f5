// Which service registry a service uses, read from its environment with the rest of its configuration
// (loadConfig calls loadDiscoveryConfig for every service). Only settings here: opening the registry they
// name is create-registry.ts's job.
import type { EnvReader } from "../env.js";
import { DEFAULT_CONSUL_ADDR } from "./consul.js";
import type { RegistryKind } from "./registry.js";
import { InvalidInstanceError, type ServiceInstance, validateInstance } from "./service-instance.js";

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
