// The registrar's part for services that run in the test process (in-process-mesh.ts) under server-side
// discovery: each started service's port is entered in Consul, and the mesh is handed back only once the
// router (Traefik) routes to every one of them, so that a test's first call does not meet the router's
// 503 for a service it has not picked up yet. A service's stop() leaves the catalog first, as a supervisor
// would deregister a process before it signals it.

import { type RunningService, SERVICE_NAMES, type ServiceName } from "@ftgo/platform";
import type { ServerSideDiscovery } from "./server-side-discovery.js";
import { untilRouted } from "./traefik.js";

/** How long the router may take to list every registered service on a loaded two-core machine. */
const ROUTED_WITHIN_MS = 60_000;

/**
 * Registers `service` (listening on 127.0.0.1) with the registrar and returns it with a stop() that
 * deregisters it before stopping it.
 */
export async function registerWithRouter(
  ssd: ServerSideDiscovery,
  name: ServiceName,
  service: RunningService,
): Promise<RunningService> {
  const registration = await ssd.registrar.register({ service: name, address: "127.0.0.1", port: service.port });
  return {
    address: service.address,
    port: service.port,
    async stop() {
      try {
        await registration.deregister();
      } finally {
        await service.stop();
      }
    },
  };
}

/** Resolves once the router sends each service's calls to its registered port, and there only; throws after a minute. */
export async function routedByRouter(
  ssd: ServerSideDiscovery,
  services: Readonly<Record<ServiceName, RunningService>>,
): Promise<void> {
  await Promise.all(
    SERVICE_NAMES.map((name) =>
      untilRouted(ssd.router.apiUrl, name, [`127.0.0.1:${services[name].port}`], ROUTED_WITHIN_MS),
    ),
  );
}
