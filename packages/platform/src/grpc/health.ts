import type { Server } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

/** The standard health service of one server, with a single switch for all its statuses. */
export interface ServerHealth {
  /** SERVING or NOT_SERVING for the server ("") and for every service it registered. */
  setServing(serving: boolean): void;
  /**
   * Calls `listener` (synchronously) each time the server's overall status changes, SERVING or NOT_SERVING,
   * until the returned function is called. Self-registration follows it.
   */
  onServingChange(listener: (serving: boolean) => void): () => void;
  /**
   * The status of one aspect of the server under a name of its own (`ftgo.outbox`), apart from the switch
   * above: a server can serve calls while an aspect of it needs a person.
   */
  setAspect(name: string, ok: boolean): void;
}

/**
 * The health name under which a saga participant reports its outbox: NOT_SERVING while the relay holds
 * parked rows (messages the broker will never take; their orders wait for a person). The server itself
 * keeps serving: the gateway's /readyz shows the service as degraded, not as down.
 */
export const OUTBOX_HEALTH = "ftgo.outbox";

/**
 * Registers `grpc.health.v1.Health` (Check, Watch, List) on `server`, answering for the empty name (the
 * whole server) and for each service's full name, as load balancers, Kubernetes and grpcurl expect.
 * Every status starts NOT_SERVING: a server reports SERVING only once it is bound and ready.
 */
export function addHealth(server: Server, serviceNames: readonly string[]): ServerHealth {
  const names = ["", ...serviceNames];
  const health = new HealthImplementation(Object.fromEntries(names.map((name) => [name, "NOT_SERVING"])));
  health.addToServer(server);
  const listeners = new Set<(serving: boolean) => void>();
  let current = false;
  return {
    setServing(serving) {
      for (const name of names) health.setStatus(name, serving ? "SERVING" : "NOT_SERVING");
      if (serving === current) return;
      current = serving;
      for (const listener of [...listeners]) listener(serving);
    },
    onServingChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    setAspect(name, ok) {
      health.setStatus(name, ok ? "SERVING" : "NOT_SERVING");
    },
  };
}
