// Consul as the service registry. An instance registers with its local Consul agent, and the agent
// health-checks it: every CHECK_INTERVAL it calls the instance's standard gRPC health service, and an
// instance that does not answer SERVING turns critical and drops out of the passing list that
// client-side discovery reads. Liveness is probed by Consul rather than heartbeated by the instance.
import Consul from "consul";
import type { RegisterOptions } from "consul/lib/agent/service.js";
import type { Logger } from "../log.js";
import { createRegistryHandles } from "./handles.js";
import { createOutageLog } from "./outage-log.js";
import { type Registry, RegistryUnavailableError } from "./registry.js";
import {
  assertServiceName,
  byId,
  onListChange,
  readInstance,
  type ServiceInstance,
  validateInstance,
} from "./service-instance.js";

/** Where Consul's own tools look when CONSUL_HTTP_ADDR is unset. */
export const DEFAULT_CONSUL_ADDR = "127.0.0.1:8500";

/**
 * The gRPC health check the agent runs against each instance (Go durations, as Consul reads them): every
 * `interval` it calls the instance's grpc.health.v1 Check, which must answer SERVING within `timeout`; an
 * instance critical for `deregisterAfter` is removed by the agent (after a crash that skipped
 * deregistration). Consul enforces at least a minute for the last, and reaps every 30 s or so.
 */
export interface ConsulCheckSettings {
  /** CONSUL_CHECK_INTERVAL, default 2s: how stale "passing" can be. */
  readonly interval: string;
  /** CONSUL_CHECK_TIMEOUT, default 1s. */
  readonly timeout: string;
  /** CONSUL_DEREGISTER_AFTER, default 1m (Consul's minimum). */
  readonly deregisterAfter: string;
}

export const DEFAULT_CONSUL_CHECK: ConsulCheckSettings = { interval: "2s", timeout: "1s", deregisterAfter: "1m" };
/** How long a blocking query waits for a change before returning the same list (and asking again). */
const WATCH_WAIT = "30s";

export interface ConsulRegistryOptions {
  /** The agent's HTTP API: `host:port`, `http://host:port` or `https://host:port`. */
  readonly addr: string;
  /** The health check of every registration. Default DEFAULT_CONSUL_CHECK. */
  readonly check?: ConsulCheckSettings;
  /**
   * The secure mode: the agent checks each instance over TLS (GRPCUseTLS), presenting its own certificate, which
   * the instance's mTLS server requires (the agent runs with enable_agent_tls_for_checks, docs/security.md).
   */
  readonly tlsChecks?: boolean;
  readonly log: Logger;
}

/**
 * Opens Consul as the service registry. Self-registration hands the instance, with a gRPC health check,
 * to the local agent; deregistration removes it at once. Client-side discovery asks for the instances
 * whose checks pass, and watches them with blocking queries: each request carries the last index seen
 * and returns as soon as the list changes (or after WATCH_WAIT with nothing new).
 */
export function createConsulRegistry({
  addr,
  check = DEFAULT_CONSUL_CHECK,
  tlsChecks = false,
  log,
}: ConsulRegistryOptions): Registry {
  const consul = new Consul(consulOptions(addr));
  const handles = createRegistryHandles(log);

  return {
    kind: "consul",
    async register(candidate) {
      const instance = validateInstance(candidate);
      await consul.agent.service.register(toConsulService(instance, check, tlsChecks));
      log.info({ instanceId: instance.id }, "registered with Consul");
      return handles.registration(instance, async () => {
        await consul.agent.service.deregister(instance.id);
        log.info({ instanceId: instance.id }, "deregistered from Consul");
      });
    },
    async lookup(service) {
      assertServiceName(service);
      let entries: unknown;
      try {
        entries = await consul.health.service({ service, passing: true });
      } catch (cause) {
        throw new RegistryUnavailableError({ cause });
      }
      return toInstances(entries, log).sort(byId);
    },
    watch(service, onChange) {
      assertServiceName(service);
      const watchLog = log.child({ target: service });
      const report = onListChange(onChange, watchLog);
      // The client's Watch runs the blocking-query loop (index + wait) and backs off after errors.
      const watch = consul.watch({
        method: consul.health.service,
        options: { service, passing: "true", wait: WATCH_WAIT },
      });
      // An agent that is away fails every retry alike: say so when it starts and when it ends, not per retry.
      const outage = createOutageLog(watchLog, {
        failing: "Consul watch failing; retrying with backoff, quietly until it recovers",
        recovered: "Consul watch recovered",
      });
      watch.on("change", (entries: unknown) => {
        outage.succeeded();
        report(toInstances(entries, watchLog));
      });
      watch.on("error", (err: unknown) => outage.failed(err));
      return handles.watch(() => watch.end());
    },
    async close() {
      await handles.close();
      consul.destroy();
    },
  };
}

/**
 * The agent registration for an instance: the service with its version in the metadata, and a gRPC
 * health check. The check needs its `interval`: without one the client silently sends a TTL check
 * that the instance would have to keep passing itself. Consul removes an instance left critical for
 * `deregisterAfter`, which cleans up after a crash that skipped deregistration.
 */
export function toConsulService(
  instance: ServiceInstance,
  check: ConsulCheckSettings = DEFAULT_CONSUL_CHECK,
  tlsCheck = false,
): RegisterOptions {
  return {
    name: instance.service,
    id: instance.id,
    address: instance.address,
    port: instance.port,
    tags: [...instance.tags],
    meta: { version: instance.version },
    check: {
      name: `gRPC health of ${instance.id}`,
      grpc: `${instance.address}:${instance.port}`,
      // The name the instance's certificate must carry: its service's (Consul would expect its own node's).
      ...(tlsCheck ? { grpcusetls: true, tlsservername: instance.service } : {}),
      interval: check.interval,
      timeout: check.timeout,
      deregistercriticalserviceafter: check.deregisterAfter,
    },
  };
}

/**
 * The instance in one entry of Consul's health endpoint (`{ Node, Service, Checks }`), as client-side
 * discovery needs it. A service registered without an address is reachable at its node's address; one
 * registered by other tooling, without our version metadata, reads "unknown". The result still goes
 * through validateInstance, which rejects what this mapping could not fill in.
 */
export function fromConsulEntry(entry: unknown): unknown {
  const { Node: node, Service: service } = (entry ?? {}) as {
    Node?: { Address?: string };
    Service?: { ID?: string; Service?: string; Address?: string; Port?: number; Tags?: string[]; Meta?: object };
  };
  return {
    service: service?.Service,
    id: service?.ID,
    address: service?.Address || node?.Address,
    port: service?.Port,
    version: (service?.Meta as { version?: string } | undefined)?.version ?? "unknown",
    tags: service?.Tags ?? [],
  };
}

/** The usable instances among health entries; a malformed one is logged and skipped. */
function toInstances(entries: unknown, log: Logger): ServiceInstance[] {
  return (Array.isArray(entries) ? entries : []).flatMap((entry: unknown) => {
    const consulId = (entry as { Service?: { ID?: unknown } } | null)?.Service?.ID;
    const instance = readInstance(() => fromConsulEntry(entry), { consulId }, log);
    return instance ? [instance] : [];
  });
}

/** `host:port` as Consul's CLI accepts it, or a URL; http unless it says https. */
function consulOptions(addr: string): { host: string; port: number; secure: boolean } {
  const url = new URL(addr.includes("://") ? addr : `http://${addr}`);
  const secure = url.protocol === "https:";
  return { host: url.hostname, port: Number(url.port || (secure ? 443 : 8500)), secure };
}
