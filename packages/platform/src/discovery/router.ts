// Server-side discovery, the caller's half. The caller knows one well-known address, the router's, and
// sends every call there; the router (Traefik, reading Consul's catalog) picks a healthy instance of the
// service the call names and forwards it. The caller neither registers itself nor reads a registry:
// a registrar registers it (registrar.ts) and the router does the discovery and the load balancing.
//
// Behind the Registry interface it is a registry that lists, for every service, one instance: the router.
// So the mesh client is unchanged: it dials the router, and its breaker, bulkhead and retries now guard
// the hop to the router, per target service, rather than one instance of it.
import type { Logger } from "../log.js";
import type { Registry } from "./registry.js";
import { assertServiceName, type ServiceInstance, validateInstance } from "./service-instance.js";
import { watchFixed } from "./static.js";

/**
 * The header in which a caller through the router names the service it calls. The router routes by the
 * path first (`/ftgo.kitchen.v1.…` is kitchen's, whoever sends it, grpcurl included), but a method that
 * every service serves, such as `grpc.health.v1.Health/Check`, names none: the header says whose it is.
 */
export const ROUTER_TARGET_HEADER = "ftgo-target";

/** The tag of the one instance the router registry lists for every service: calls to it carry ROUTER_TARGET_HEADER. */
export const ROUTER_TAG = "router";

/** Where `make up DISCOVERY=server` runs the router's gRPC entry point. DISCOVERY_ROUTER overrides it. */
export const DEFAULT_ROUTER_ADDR = "127.0.0.1:8090";

export interface RouterRegistryOptions {
  /** The router's gRPC entry point, `host:port`. */
  readonly addr: string;
  readonly log: Logger;
}

/**
 * The Consul Catalog tags that tell the router (Traefik) how to reach a service: route the calls whose
 * path names one of its gRPC packages (`/ftgo.kitchen.v1.KitchenService/GetMenu` → kitchen, any major
 * version), or whose ROUTER_TARGET_HEADER names it, to its passing instances, over h2c (gRPC without TLS). The registrar attaches them to every
 * registration; a service without them is not routed (the router exposes nothing by default).
 */
export function routerTags(service: string): string[] {
  assertServiceName(service);
  return [
    "traefik.enable=true",
    `traefik.http.routers.${service}.rule=PathPrefix(\`/ftgo.${service}.\`) || Header(\`${ROUTER_TARGET_HEADER}\`, \`${service}\`)`,
    `traefik.http.routers.${service}.service=${service}`,
    `traefik.http.services.${service}.loadbalancer.server.scheme=h2c`,
  ];
}

/** "host:port" (or "[v6]:port") into the parts an instance holds; throws on anything else. */
export function parseRouterAddr(addr: string): { address: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(addr);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port >= 1 && port <= 65535)) {
    throw new Error(`DISCOVERY_ROUTER=${JSON.stringify(addr)} is not host:port`);
  }
  return { address: match[1].replace(/^\[|\]$/g, ""), port };
}

/**
 * The registry a caller uses under server-side discovery: every service is "at" the router. Registering
 * is accepted and does nothing (the registrar owns registration); a watch reports the one entry once.
 */
export function createRouterRegistry({ addr, log }: RouterRegistryOptions): Registry {
  const { address, port } = parseRouterAddr(addr);
  const via = (service: string): ServiceInstance[] => [
    validateInstance({ service, id: `${service}-via-router`, address, port, version: "router", tags: [ROUTER_TAG] }),
  ];
  return {
    kind: "router",
    async register(candidate) {
      const instance = validateInstance(candidate);
      log.debug({ instanceId: instance.id }, "server-side discovery: the registrar registers this instance");
      return { instance, deregister: async () => {} };
    },
    async lookup(service) {
      assertServiceName(service);
      return via(service);
    },
    watch: (service, onChange) => watchFixed(service, via, onChange, log),
    async close() {},
  };
}
