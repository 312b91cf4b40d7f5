// The registrar's part for services that run in the test process (in-process-mesh.ts) under server-side
// discovery: each started service's port is entered in Consul, and the mesh is handed back only once the
// router (Traefik) routes to every one of them, so that a test's first call does not meet the router's
// 503 for a service it has not picked up yet. A service's stop() leaves the catalog first, as a supervisor
// would deregister a process before it signals it.

import { type RunningService, SERVICE_NAMES, type ServiceName } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import type { ServerSideDiscovery } from "./server-side-discovery.js";

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

/** Resolves once the router sends each service's calls to its registered port; throws after a minute. */
export async function routedByRouter(
  ssd: ServerSideDiscovery,
  services: Readonly<Record<ServiceName, RunningService>>,
): Promise<void> {
  let missing: ServiceName[] = [...SERVICE_NAMES];
  await waitFor(
    async () => {
      const routed = await Promise.all(
        missing.map(async (name) => (await ssd.router.servers(name)).includes(`127.0.0.1:${services[name].port}`)),
      );
      missing = missing.filter((_, i) => !routed[i]);
      return missing.length === 0;
    },
    {
      timeoutMs: ROUTED_WITHIN_MS,
      intervalMs: 100,
      message: () => `the router to route to ${missing.join(", ")} (${ROUTED_WITHIN_MS / 1000} s)`,
    },
  );
}
