// Service discovery. Instances come and go (deploys, crashes, scaling), so a client cannot be told its
// targets' locations up front. Each service instance registers itself in a service registry on start
// (self-registration), keeps its entry alive while it is healthy, and removes it on shutdown; clients
// ask the registry for a service's healthy instances and pick one themselves (client-side discovery).
//
//   nats-kv  the embedded default: a JetStream KV bucket; entries live while their owner heartbeats
//   consul   Consul's catalog: the agent health-checks each instance over gRPC
//   static   a fixed list from configuration, for a mesh without either
//   router   server-side discovery (router.ts): every service is reached through one router, which reads
//            the registry that a registrar (registrar.ts) keeps, so the service does neither itself
import { reasonOf } from "./outage-log.js";
import type { ServiceInstance } from "./service-instance.js";

export type RegistryKind = "nats-kv" | "consul" | "static" | "router";

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

/**
 * The registry could not be read (its bucket is gone, its server unreachable). A caller answers
 * "unavailable", not "internal": the registry is infrastructure that heals, not a bug.
 */
export class RegistryUnavailableError extends Error {
  override readonly name = "RegistryUnavailableError";
  constructor(options: { cause: unknown }) {
    super(`the service registry cannot be read: ${reasonOf(options.cause)}`, options);
  }
}
