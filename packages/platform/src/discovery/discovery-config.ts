// Which service registry a service uses, read from its environment with the rest of its configuration
// (loadConfig calls loadDiscoveryConfig for every service). Only settings here: opening the registry they
// name is create-registry.ts's job.
import type { EnvReader } from "../env.js";
import { type ConsulCheckSettings, DEFAULT_CONSUL_ADDR, DEFAULT_CONSUL_CHECK } from "./consul.js";
import type { RegistryKind } from "./registry.js";
import { DEFAULT_ALLOWED_HOSTS, normalHost, parseAllowedHosts } from "./registry-hosts.js";
import { DEFAULT_ROUTER_ADDR, parseRouterAddr } from "./router.js";
import { InvalidInstanceError, type ServiceInstance, validateInstance } from "./service-instance.js";

/**
 * The seed's two solutions to service discovery. `client`: each service registers itself and its callers
 * look up the instances and balance among them. `server`: a registrar registers each service and the
 * callers send every call to a router, which picks the instance.
 */
export type DiscoveryMode = "client" | "server";

export interface DiscoveryConfig {
  /**
   * Which service registry. REGISTRY, default nats-kv (client-side discovery); `router` when
   * DISCOVERY=server, whatever REGISTRY says: the registrar and the router use that one, not the service.
   */
  readonly registry: RegistryKind;
  /** How long an entry outlives its last heartbeat (nats-kv). REGISTRY_TTL_MS, default 10000. */
  readonly ttlMs: number;
  /** How often a registration renews its entry: a third of the TTL, so two missed beats are forgiven. */
  readonly heartbeatMs: number;
  /** Consul's HTTP API, `host:port` or a URL. CONSUL_HTTP_ADDR, default 127.0.0.1:8500 (consul only). */
  readonly consulAddr?: string;
  /** The gRPC health check Consul runs: CONSUL_CHECK_INTERVAL (2s), CONSUL_CHECK_TIMEOUT (1s), CONSUL_DEREGISTER_AFTER (1m). */
  readonly consulCheck?: ConsulCheckSettings;
  /** STATIC_INSTANCES, `order=127.0.0.1:50051,kitchen=127.0.0.1:50053,…` (static only). */
  readonly staticInstances?: readonly ServiceInstance[];
  /** The router every call goes to: DISCOVERY_ROUTER, default 127.0.0.1:8090 (server only). */
  readonly routerAddr?: string;
  /**
   * The hosts a NATS KV registry entry may name (nats-kv only): REGISTRY_ALLOWED_HOSTS, a comma-separated list;
   * unset, 127.0.0.1, localhost, ::1 and this process's own advertised host (FTGO_ADVERTISE_HOST, else FTGO_HOST).
   * Absent when that is just the three defaults (DEFAULT_ALLOWED_HOSTS). Entries naming another host are skipped.
   */
  readonly allowedHosts?: readonly string[];
}

const REGISTRY_KINDS = ["nats-kv", "consul", "static"] as const satisfies readonly RegistryKind[];

const DISCOVERY_MODES = ["client", "server"] as const satisfies readonly DiscoveryMode[];

/**
 * Reads the service discovery settings, for use inside loadConfig's `extra`:
 * loadConfig calls it for every service. Client-side discovery is the default, over NATS KV unless
 * REGISTRY says consul or static; DISCOVERY=server sends every call to the router at DISCOVERY_ROUTER
 * instead, and REGISTRY is then the registrar's business, not the service's. A value that cannot be
 * parsed is reported with the other start-up problems.
 */
export function loadDiscoveryConfig(read: EnvReader): DiscoveryConfig {
  const mode = read.oneOf("DISCOVERY", DISCOVERY_MODES, "client");
  const registry = mode === "server" ? "router" : read.oneOf("REGISTRY", REGISTRY_KINDS, "nats-kv");
  const ttlMs = read.int("REGISTRY_TTL_MS", 10_000, 1_000);
  if (registry === "router") {
    const routerAddr = read.string("DISCOVERY_ROUTER", DEFAULT_ROUTER_ADDR);
    try {
      parseRouterAddr(routerAddr);
    } catch (err) {
      read.problem((err as Error).message);
    }
    return { registry, ttlMs, heartbeatMs: Math.floor(ttlMs / 3), routerAddr };
  }
  const config: DiscoveryConfig = { registry, ttlMs, heartbeatMs: Math.floor(ttlMs / 3) };
  switch (registry) {
    case "consul":
      return {
        ...config,
        consulAddr: read.string("CONSUL_HTTP_ADDR", DEFAULT_CONSUL_ADDR),
        consulCheck: readCheck(read),
      };
    case "static": {
      const { instances, problems } = parseStaticInstances(read.string("STATIC_INSTANCES", ""));
      if (instances.length === 0 && problems.length === 0) problems.push("STATIC_INSTANCES is empty");
      for (const problem of problems) read.problem(problem);
      return { ...config, staticInstances: instances };
    }
    case "nats-kv": {
      const allowedHosts = readAllowedHosts(read);
      return allowedHosts ? { ...config, allowedHosts } : config;
    }
  }
}

/** Hosts a wildcard bind address stands for: not an address anyone dials. */
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** REGISTRY_ALLOWED_HOSTS, or the defaults plus this process's own advertised host; undefined for the bare defaults. */
function readAllowedHosts(read: EnvReader): readonly string[] | undefined {
  const given = read.string("REGISTRY_ALLOWED_HOSTS", "");
  if (given.trim() !== "") {
    const { hosts, problem } = parseAllowedHosts(given);
    if (problem) read.problem(problem);
    return hosts;
  }
  const own = read.string("FTGO_ADVERTISE_HOST", "").trim() || read.string("FTGO_HOST", "").trim();
  if (own === "" || WILDCARDS.has(own) || DEFAULT_ALLOWED_HOSTS.includes(normalHost(own))) return undefined;
  return [...DEFAULT_ALLOWED_HOSTS, normalHost(own)];
}

/** A Go duration as Consul reads it: a whole number and a unit, `500ms`, `2s`, `1m`. */
const DURATION = /^([1-9][0-9]*)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Consul's check settings; a malformed duration, a timeout not below the interval or a deregister-after under a minute are problems. */
function readCheck(read: EnvReader): ConsulCheckSettings {
  const duration = (name: string, fallback: string, minMs: number) => {
    const value = read.string(name, fallback);
    const match = DURATION.exec(value);
    const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
    if (!(ms >= minMs)) {
      read.problem(`${name}=${JSON.stringify(value)} is not a duration like 2s or 500ms of at least ${minMs} ms`);
      return { value: fallback, ms: Number.NaN };
    }
    return { value, ms };
  };
  const interval = duration("CONSUL_CHECK_INTERVAL", DEFAULT_CONSUL_CHECK.interval, 100);
  const timeout = duration("CONSUL_CHECK_TIMEOUT", DEFAULT_CONSUL_CHECK.timeout, 100);
  const deregisterAfter = duration("CONSUL_DEREGISTER_AFTER", DEFAULT_CONSUL_CHECK.deregisterAfter, 60_000);
  if (timeout.ms >= interval.ms) {
    read.problem(
      `CONSUL_CHECK_TIMEOUT (${timeout.value}) must be shorter than CONSUL_CHECK_INTERVAL (${interval.value})`,
    );
  }
  return { interval: interval.value, timeout: timeout.value, deregisterAfter: deregisterAfter.value };
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
