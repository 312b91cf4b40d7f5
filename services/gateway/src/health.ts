// The gateway's own operational endpoints: liveness, readiness of what it routes to, and the admin view
// of the registry with the circuit breakers of the gateway's clients.
import { HealthCheckResponse_ServingStatus } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { OUTBOX_HEALTH, type Registry, RegistryUnavailableError, type ServiceInstance } from "@ftgo/platform";
import { BACKENDS, type Backend, REQUIRED_BACKENDS } from "./config.js";
import type { RouteContext } from "./context.js";
import { type ErrorBody, unavailable } from "./errors.js";

/** GET /healthz: the process is up and answering. */
export async function healthz(): Promise<{ status: "ok" }> {
  return { status: "ok" };
}

/**
 * GET /readyz: 200 only when every required service behind the gateway (the saga's) is in the registry and
 * answers SERVING to the standard health check (reached through discovery, like any other call); 503 naming
 * each one that is not. An optional one (a Go service) that does not serve is listed under `degraded`.
 * A registry that cannot be read is an outage, not a bug: 503 with the reason, in the error shape. A
 * service that serves while its outbox holds parked rows (OUTBOX_HEALTH NOT_SERVING) is ready but listed
 * under `degraded`, with what a person should do.
 */
export async function readyz({ deps, reply, callOptions }: RouteContext): Promise<unknown> {
  const registered = await registeredInstances(deps.registry);
  if (!registered.ok) {
    reply.status(503);
    return { ready: false, ...registered.error };
  }
  const check = async (name: Backend, service: string) => {
    const { status } = await deps.backends.health[name].check({ service }, { ...callOptions, timeoutMs: 1_000 });
    return HealthCheckResponse_ServingStatus[status];
  };
  /** A service's status, and whether its outbox holds parked rows (asked only of a service that serves). */
  const readiness = async (name: Backend): Promise<{ status: string; parked: boolean }> => {
    if (registered.instances[name].length === 0) return { status: "NOT_REGISTERED", parked: false };
    const status = await check(name, "").catch(() => "UNREACHABLE");
    if (status !== "SERVING") return { status, parked: false };
    return { status, parked: (await check(name, OUTBOX_HEALTH).catch(() => "SERVING")) === "NOT_SERVING" };
  };
  const services = await Promise.all(BACKENDS.map(async (name) => ({ name, ...(await readiness(name)) })));
  const ready = services.every(({ name, status }) => status === "SERVING" || !REQUIRED_BACKENDS.has(name));
  const degraded = [
    ...services.filter(({ parked }) => parked).map(({ name }) => [name, PARKED_ROWS] as const),
    ...services
      .filter(({ name, status }) => status !== "SERVING" && !REQUIRED_BACKENDS.has(name))
      .map(({ name, status }) => [name, `${status}: optional, its leg of the order details is missing`] as const),
  ];
  reply.status(ready ? 200 : 503);
  return {
    ready,
    services: Object.fromEntries(services.map(({ name, status }) => [name, status])),
    ...(degraded.length > 0 && { degraded: Object.fromEntries(degraded) }),
  };
}

/** What /readyz says of a service whose outbox holds parked rows. */
const PARKED_ROWS = "its outbox holds parked rows, orders waiting for a person: npm run dead-letters -- parked";

/** GET /api/v1/admin/services: per service, the registry's instances and the gateway's breaker for each. */
export async function listServices({ deps }: RouteContext): Promise<unknown> {
  const registered = await registeredInstances(deps.registry);
  if (!registered.ok) throw unavailable(registered.error.error.message);
  const entries = BACKENDS.map((name) => {
    const seen = new Map(deps.backends[name].instances().map((state) => [state.id, state]));
    const instances = registered.instances[name].map((instance) => ({
      id: instance.id,
      address: `${instance.address}:${instance.port}`,
      version: instance.version,
      breaker: seen.get(instance.id)?.breaker ?? "not yet called",
      outstanding: seen.get(instance.id)?.outstanding ?? 0,
    }));
    return [name, instances] as const;
  });
  return Object.fromEntries(entries);
}

type Registered =
  | { readonly ok: true; readonly instances: Readonly<Record<Backend, readonly ServiceInstance[]>> }
  | { readonly ok: false; readonly error: ErrorBody };

/**
 * Every backend's instances as the registry lists them now, or why the registry cannot be read (its
 * bucket deleted and not yet recreated by a heartbeat, its server away). Anything else is a bug and
 * stays one.
 */
async function registeredInstances(registry: Registry): Promise<Registered> {
  try {
    const lists = await Promise.all(BACKENDS.map(async (name) => [name, await registry.lookup(name)] as const));
    return { ok: true, instances: Object.fromEntries(lists) as Record<Backend, ServiceInstance[]> };
  } catch (err) {
    if (!(err instanceof RegistryUnavailableError)) throw err;
    return { ok: false, error: { error: { code: "UNAVAILABLE", message: err.message } } };
  }
}
