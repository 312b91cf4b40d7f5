// Opening the service registry a service's configuration names: the one place that knows every backend.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import { createConsulRegistry, DEFAULT_CONSUL_ADDR } from "./consul.js";
import type { DiscoveryConfig } from "./discovery-config.js";
import { createNatsKvRegistry } from "./nats-kv.js";
import type { Registry } from "./registry.js";
import { createRouterRegistry, DEFAULT_ROUTER_ADDR } from "./router.js";
import { createStaticRegistry } from "./static.js";

export interface RegistryDeps {
  /** The service's NATS connection; needed by nats-kv. The registry uses it, never closes it. */
  readonly nc?: NatsConnection;
  readonly log: Logger;
  /**
   * The secure mode (the service has config.tls): Consul's health checks of its instances then run over TLS,
   * the agent presenting its own certificate of the mesh CA.
   */
  readonly secure?: boolean;
  /** Copies of nats-kv's bucket, when this call creates it (config.streamReplicas). Default 1. */
  readonly streamReplicas?: number;
}

/**
 * Opens the service registry that `config` names: the one place where a service chooses between NATS
 * KV, Consul, a static list and, under server-side discovery, the router. Everything after it (self-registration on start, client-side discovery
 * of other services, deregistration on shutdown) goes through the Registry interface and reads the
 * same whichever backend serves it.
 */
export async function createRegistry(config: DiscoveryConfig, deps: RegistryDeps): Promise<Registry> {
  const log = deps.log.child({ registry: config.registry });
  switch (config.registry) {
    case "nats-kv": {
      if (!deps.nc) throw new Error("the nats-kv registry needs a NATS connection (deps.nc)");
      return createNatsKvRegistry({
        nc: deps.nc,
        ttlMs: config.ttlMs,
        heartbeatMs: config.heartbeatMs,
        allowedHosts: config.allowedHosts,
        replicas: deps.streamReplicas,
        log,
      });
    }
    case "consul":
      return createConsulRegistry({
        addr: config.consulAddr ?? DEFAULT_CONSUL_ADDR,
        check: config.consulCheck,
        tlsChecks: deps.secure,
        log,
      });
    case "static": {
      if (!config.staticInstances) throw new Error("the static registry needs config.staticInstances");
      return createStaticRegistry({ instances: config.staticInstances, log });
    }
    case "router":
      return createRouterRegistry({ addr: config.routerAddr ?? DEFAULT_ROUTER_ADDR, log });
  }
}
