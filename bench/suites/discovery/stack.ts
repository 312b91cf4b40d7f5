import { type ConsulAgent, startConsulAgent } from "@ftgo/harness/consul-agent.js";
import { startTraefik, type Traefik } from "@ftgo/harness/traefik.js";
import { createRegistrar, silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { cleanupStack } from "../../lib/cleanups.js";
import { TARGET } from "../mesh/clients.js";
import { startServers } from "../mesh/servers.js";
import { HOST } from "../unary/contenders.js";

/*
 * What the discovery suite calls, started once for the whole suite so that both arms call the very same
 * two Kitchen processes: the servers (the unary suite's (a), each in a child process of its own), a Consul
 * agent, Traefik reading Consul's catalog, and a registrar that enters both servers in Consul, with the
 * gRPC health check and the router's tags, as `make up DISCOVERY=server`'s supervisor does. Client-side
 * discovery reads those same entries from Consul; server-side discovery sends every call to Traefik.
 */

/** Consul's gRPC check of each server, the harness's: both turn passing within a second of registering. */
const CHECK = { interval: "500ms", timeout: "400ms", deregisterAfter: "1m" } as const;

/** How long the catalog may take to reach Traefik on a busy machine (measured: under a second when idle). */
const ROUTED_WITHIN_MS = 60_000;

export interface DiscoveryStack {
  /** Consul's HTTP API, `host:port`: where client-side discovery finds the servers. */
  readonly consulAddr: string;
  /** The router: its gRPC entry point and pid (for its RSS and CPU time). */
  readonly router: Traefik;
  /** `host:port` of both servers, as registered. */
  readonly servers: readonly string[];
  /** Stops whatever was started, last first, even after a failure; the first error is thrown at the end. */
  close(): Promise<void>;
}

/**
 * Starts the servers, Consul and Traefik, registers both servers and resolves once Traefik routes to both.
 * A start that fails stops everything it had started before it rethrows.
 */
export async function startDiscoveryStack(progress: (line: string) => void): Promise<DiscoveryStack> {
  const cleanups = cleanupStack();
  const close = cleanups.close;
  try {
    const children = await startServers(2, cleanups);
    const servers = children.map((child) => `${HOST}:${child.port}`).sort();
    const consul: ConsulAgent = await startConsulAgent();
    cleanups.push(() => consul.stop());
    const router = await startTraefik({ consulAddr: consul.httpAddr });
    cleanups.push(() => router.stop());
    progress(`discovery: Consul at ${consul.httpAddr}, Traefik at ${router.grpcAddr} (pid ${router.pid})`);

    const registrar = createRegistrar({ consulAddr: consul.httpAddr, check: CHECK, log: silentLogger() });
    cleanups.push(() => registrar.close());
    for (const child of children) await registrar.register({ service: TARGET, address: HOST, port: child.port });
    await waitFor(async () => sameList(await router.servers(TARGET), servers), {
      timeoutMs: ROUTED_WITHIN_MS,
      message: () => `Traefik to route ${TARGET} to ${servers.join(" and ")}`,
    });
    progress(`discovery: both servers registered, and Traefik routes to ${servers.join(", ")}`);
    return { consulAddr: consul.httpAddr, router, servers, close };
  } catch (err) {
    await close().catch(() => {}); // the start-up error says more than a teardown one
    throw err;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
