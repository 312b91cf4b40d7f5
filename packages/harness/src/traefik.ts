// A real Traefik (v3.6.12, built from source by `make traefik` into .tools/bin/traefik): the router of
// server-side discovery. It reads Consul's catalog (the Consul Catalog provider, with blocking-query watches),
// routes each gRPC call by the package in its path to a passing instance of that service, over h2c, and
// round-robins among them. Tests and `make up DISCOVERY=server` start it here; like the Consul agent it is a
// tracked child (child-processes.ts) and a start that fails kills it before it rethrows.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@ftgo/platform/testing";
import { freePort } from "./service-instance.js";
import { startToolProcess } from "./tool-process.js";

export const TRAEFIK_VERSION = "v3.6.12";
const root = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * The one route that is not in Consul: a call for a service with no passing instance matches no router of
 * the catalog and would get Traefik's 404, which gRPC reads as UNIMPLEMENTED. This catch-all, below every
 * catalog route, sends it to a service with no server, which answers 503: UNAVAILABLE, as a caller expects
 * of a service that is down.
 */
const NO_INSTANCE_ROUTE = `http:
  routers:
    no-passing-instance:
      rule: "PathPrefix(\`/\`)"
      priority: 1
      service: no-passing-instance
  services:
    no-passing-instance:
      loadBalancer:
        servers: []
`;

export interface TraefikOptions {
  /** The Consul agent whose catalog it routes from, `host:port`. */
  readonly consulAddr: string;
  /** Its gRPC entry point and its API port; free ones when not given. */
  readonly ports?: { readonly grpc?: number; readonly api?: number };
  /** Its own process group, so that a terminal's Ctrl-C reaches it only through stop(). Default false. */
  readonly detached?: boolean;
  /** Every line it logs (warnings and errors). The last ones are quoted if start-up fails. */
  readonly onLog?: (line: string) => void;
  /** Called when it exits other than through stop(). */
  readonly onCrash?: (how: string) => void;
  /** How long it may take to answer its ping. Default 60 s (a loaded two-core machine). */
  readonly startTimeoutMs?: number;
}

export interface Traefik {
  /** `127.0.0.1:<port>`: the one address every caller dials (DISCOVERY_ROUTER). */
  readonly grpcAddr: string;
  /** `http://127.0.0.1:<port>`: its API (`/api/http/services`, `/api/rawdata`) and `/ping`. */
  readonly apiUrl: string;
  readonly pid: number;
  /** The `host:port` of every server the router sends `service`'s calls to now (none: []). */
  servers(service: string): Promise<string[]>;
  /** SIGTERM (SIGKILL after the grace period), waits for the exit, removes its config dir. */
  stop(graceMs?: number): Promise<void>;
}

/** Thrown when there is no Traefik binary: the message says to run `make traefik`. Tests fail on it, never skip. */
export class TraefikNotFoundError extends Error {
  override readonly name = "TraefikNotFoundError";
  constructor(where: string) {
    super(`no Traefik at ${where}: run \`make traefik\` (builds Traefik ${TRAEFIK_VERSION} from source)`);
  }
}

/** The binary: TRAEFIK_BIN, else .tools/bin/traefik (make traefik links it there), else make traefik's cache. */
export function findTraefik(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAEFIK_BIN) {
    if (existsSync(env.TRAEFIK_BIN)) return env.TRAEFIK_BIN;
    throw new TraefikNotFoundError(`TRAEFIK_BIN=${env.TRAEFIK_BIN}`);
  }
  const linked = join(root, ".tools", "bin", "traefik");
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const cached = join(cache, "ftgo-mesh", `traefik-${TRAEFIK_VERSION}`, "traefik");
  const found = [linked, cached].find((path) => existsSync(path));
  if (!found) throw new TraefikNotFoundError(linked);
  return found;
}

/** True when a Traefik API at `apiUrl` answers its ping. */
export async function traefikAnswers(apiUrl: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Starts Traefik with a gRPC entry point and its API on 127.0.0.1, the Consul Catalog provider on
 * `consulAddr` (only services tagged `traefik.enable=true`, only passing instances, watched with blocking
 * queries) and the catch-all 503 route; resolves once it answers `/ping`.
 */
export async function startTraefik(options: TraefikOptions): Promise<Traefik> {
  const bin = findTraefik();
  const grpcPort = options.ports?.grpc ?? (await freePort());
  const apiPort = options.ports?.api ?? (await freePort());
  const configDir = await mkdtemp(join(tmpdir(), "ftgo-traefik-"));
  await writeFile(join(configDir, "no-instance.yaml"), NO_INSTANCE_ROUTE);
  const args = [
    `--entryPoints.grpc.address=127.0.0.1:${grpcPort}`,
    `--entryPoints.traefik.address=127.0.0.1:${apiPort}`,
    "--api=true",
    "--api.insecure=true",
    "--api.dashboard=false", // its built assets are not in the Go module
    "--ping=true",
    "--global.checkNewVersion=false",
    "--global.sendAnonymousUsage=false",
    "--log.level=WARN",
    `--providers.consulCatalog.endpoint.address=${options.consulAddr}`,
    "--providers.consulCatalog.exposedByDefault=false",
    "--providers.consulCatalog.watch=true",
    "--providers.consulCatalog.strictChecks=passing",
    "--providers.consulCatalog.refreshInterval=1s",
    // A change in Consul reaches the routing table within this much (Traefik's default is 2 s).
    "--providers.providersThrottleDuration=100ms",
    `--providers.file.directory=${configDir}`,
  ];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const router = await startToolProcess({
    label: "traefik",
    bin,
    args,
    detached: options.detached,
    onLog: options.onLog,
    onCrash: options.onCrash,
    ready: () => traefikAnswers(apiUrl),
    readyWhat: `at ${apiUrl} to answer /ping`,
    startTimeoutMs: options.startTimeoutMs,
    afterStop: () => rm(configDir, { recursive: true, force: true }),
  });
  return {
    grpcAddr: `127.0.0.1:${grpcPort}`,
    apiUrl,
    pid: router.pid,
    servers: (service) => routedServers(apiUrl, service),
    stop: router.stop,
  };
}

/** The servers of the catalog's `service` in Traefik's API at `apiUrl`, sorted; a service it does not know (yet) has none. */
export async function routedServers(apiUrl: string, service: string): Promise<string[]> {
  const response = await fetch(`${apiUrl}/api/http/services/${service}@consulcatalog`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`traefik API: ${response.status} for ${service}@consulcatalog`);
  const body = (await response.json()) as { loadBalancer?: { servers?: { url: string }[] } };
  return (body.loadBalancer?.servers ?? []).map((server) => new URL(server.url).host).sort();
}

/**
 * Resolves once the router at `apiUrl` sends `service`'s calls to exactly `hosts` (`host:port`, any order; none:
 * it routes nowhere), as it does after the catalog's blocking query returns; throws after `timeoutMs`.
 */
export async function untilRouted(
  apiUrl: string,
  service: string,
  hosts: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const want = [...hosts].sort().join(", ");
  await waitFor(async () => (await routedServers(apiUrl, service)).join(", ") === want, {
    timeoutMs,
    intervalMs: 100,
    message: `Traefik to route ${service} to ${want || "nobody"}`,
  });
}
