// The gateway's own operational endpoints: liveness, readiness of what it routes to, and the admin view
// of the registry with the circuit breakers of the gateway's clients.
import { HealthCheckResponse_ServingStatus } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { BACKENDS, type Backend } from "./config.js";
import type { RouteContext } from "./context.js";

/** GET /healthz: the process is up and answering. */
export async function healthz(): Promise<{ status: "ok" }> {
  return { status: "ok" };
}

/**
 * GET /readyz: 200 only when every service behind the gateway is in the registry and answers SERVING to the
 * standard health check (reached through discovery, like any other call); 503 naming each one that is not.
 */
export async function readyz({ deps, reply, callOptions }: RouteContext): Promise<unknown> {
  const statuses = await Promise.all(
    BACKENDS.map(async (name): Promise<[Backend, string]> => {
      const instances = await deps.registry.lookup(name);
      if (instances.length === 0) return [name, "NOT_REGISTERED"];
      try {
        const { status } = await deps.backends.health[name].check(
          { service: "" },
          { ...callOptions, timeoutMs: 1_000 },
        );
        return [name, HealthCheckResponse_ServingStatus[status]];
      } catch {
        return [name, "UNREACHABLE"];
      }
    }),
  );
  const ready = statuses.every(([, status]) => status === "SERVING");
  reply.status(ready ? 200 : 503);
  return { ready, services: Object.fromEntries(statuses) };
}

/** GET /api/v1/admin/services: per service, the registry's instances and the gateway's breaker for each. */
export async function listServices({ deps }: RouteContext): Promise<unknown> {
  const entries = await Promise.all(
    BACKENDS.map(async (name) => {
      const registered = await deps.registry.lookup(name);
      const seen = new Map(deps.backends[name].instances().map((state) => [state.id, state]));
      const instances = registered.map((instance) => ({
        id: instance.id,
        address: `${instance.address}:${instance.port}`,
        version: instance.version,
        breaker: seen.get(instance.id)?.breaker ?? "not yet called",
        outstanding: seen.get(instance.id)?.outstanding ?? 0,
      }));
      return [name, instances] as const;
    }),
  );
  return Object.fromEntries(entries);
}
