// A real Consul agent (v1.16.3, built from source by `make consul` into .tools/bin/consul) in -dev mode: one
// in-memory server that is its own leader, on free ports unless given, with its own data dir. Tests and
// `make up REGISTRY=consul` start it here; it is a tracked child (child-processes.ts), so it never outlives
// the process that started it, and a start that fails kills it before it rethrows.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@ftgo/platform/testing";
import { startToolProcess } from "./tool-process.js";

/** The agent's ports. `-dev` defaults: http 8500, grpc 8502, serf lan 8301, serf wan 8302, server 8300. */
export interface ConsulPorts {
  readonly http: number;
  readonly grpc: number;
  readonly serfLan: number;
  readonly serfWan: number;
  readonly server: number;
}

export const CONSUL_DEV_PORTS: ConsulPorts = { http: 8500, grpc: 8502, serfLan: 8301, serfWan: 8302, server: 8300 };

export interface ConsulAgentOptions {
  /** Fixed ports (make up fixes the HTTP one); the others are free ones, picked now. */
  readonly ports?: Partial<ConsulPorts>;
  /** Its data dir, created if missing and kept. Default: a temp dir that stop() removes. */
  readonly dataDir?: string;
  /** Its own process group, so that a terminal's Ctrl-C reaches it only through stop(). Default false. */
  readonly detached?: boolean;
  /** Every line the agent logs. The last ones are quoted if start-up fails. */
  readonly onLog?: (line: string) => void;
  /** Called when the agent exits other than through stop(). */
  readonly onCrash?: (how: string) => void;
  /** How long it may take to elect itself leader. Default 60 s (a loaded two-core machine). */
  readonly startTimeoutMs?: number;
  /**
   * The secure mode (SECURE=1): the agent's certificate files. Its gRPC health checks of TLS services then present
   * that certificate (`enable_agent_tls_for_checks`), as an mTLS server asks every caller to.
   */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
}

export interface ConsulAgent {
  /** `127.0.0.1:<http port>`, as CONSUL_HTTP_ADDR takes it. */
  readonly httpAddr: string;
  /** `http://127.0.0.1:<http port>`: the API, and the UI at `/ui/`. */
  readonly url: string;
  readonly ports: ConsulPorts;
  readonly pid: number;
  /** SIGTERM (SIGKILL after the grace period), waits for the exit, removes a temp data dir. */
  stop(graceMs?: number): Promise<void>;
  /** A signal and nothing else, for fault injection. */
  kill(signal: NodeJS.Signals): void;
}

export const CONSUL_VERSION = "v1.16.3";
const root = fileURLToPath(new URL("../../..", import.meta.url));

/** Thrown when there is no agent binary: the message says to run `make consul`. Tests fail on it, never skip. */
export class ConsulNotFoundError extends Error {
  override readonly name = "ConsulNotFoundError";
  constructor(where: string) {
    super(`no Consul agent at ${where}: run \`make consul\` (builds Consul ${CONSUL_VERSION} from source)`);
  }
}

/** The agent binary: CONSUL_BIN, else .tools/bin/consul (make consul links it there), else make consul's cache. */
export function findConsul(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONSUL_BIN) {
    if (existsSync(env.CONSUL_BIN)) return env.CONSUL_BIN;
    throw new ConsulNotFoundError(`CONSUL_BIN=${env.CONSUL_BIN}`);
  }
  const linked = join(root, ".tools", "bin", "consul");
  const cached = join(
    env.XDG_CACHE_HOME || join(homedir(), ".cache"),
    "ftgo-mesh",
    `consul-${CONSUL_VERSION}`,
    "consul",
  );
  const found = [linked, cached].find((path) => existsSync(path));
  if (!found) throw new ConsulNotFoundError(linked);
  return found;
}

/** True when a Consul agent at `httpAddr` (`host:port` or a URL) has a leader. */
export async function consulAnswers(httpAddr: string, timeoutMs = 1_000): Promise<boolean> {
  const base = httpAddr.includes("://") ? httpAddr : `http://${httpAddr}`;
  try {
    const response = await fetch(`${base}/v1/status/leader`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok && ((await response.json()) as string) !== "";
  } catch {
    return false;
  }
}

/**
 * Starts `consul agent -dev` bound to 127.0.0.1 (DNS and gRPC-TLS off) and resolves once it has a leader
 * (`/v1/status/leader`). A start that fails (the binary exits, or no leader in time) kills the agent and
 * rejects with its last log lines.
 */
export async function startConsulAgent(options: ConsulAgentOptions = {}): Promise<ConsulAgent> {
  const bin = findConsul();
  const ports: ConsulPorts = { ...(await freePorts()), ...options.ports };
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "ftgo-consul-")));
  await mkdir(dataDir, { recursive: true });
  const args = [
    "agent",
    "-dev",
    "-node=ftgo-dev",
    "-client=127.0.0.1",
    "-bind=127.0.0.1",
    `-data-dir=${dataDir}`,
    `-http-port=${ports.http}`,
    `-grpc-port=${ports.grpc}`,
    "-grpc-tls-port=-1",
    "-dns-port=-1",
    `-serf-lan-port=${ports.serfLan}`,
    `-serf-wan-port=${ports.serfWan}`,
    `-server-port=${ports.server}`,
    "-log-level=warn",
    ...(options.tls ? [`-config-file=${await writeTlsConfig(dataDir, options.tls)}`] : []),
  ];
  const httpAddr = `127.0.0.1:${ports.http}`;
  const agent = await startToolProcess({
    label: "consul",
    bin,
    args,
    detached: options.detached,
    onLog: options.onLog,
    onCrash: options.onCrash,
    ready: () => consulAnswers(httpAddr),
    readyWhat: `at ${httpAddr} to elect a leader`,
    startTimeoutMs: options.startTimeoutMs,
    afterStop: async () => {
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  });
  return {
    httpAddr,
    url: `http://${httpAddr}`,
    ports,
    pid: agent.pid,
    stop: agent.stop,
    kill: agent.kill,
  };
}

/** Five distinct ports that were free a moment ago, outside the ephemeral range (free-port.ts). */
async function freePorts(): Promise<ConsulPorts> {
  const [http = 0, grpc = 0, serfLan = 0, serfWan = 0, server = 0] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  return { http, grpc, serfLan, serfWan, server };
}

/**
 * The agent's TLS settings for the secure mode, as HCL in its data dir: the CA and its own certificate, used by the
 * health checks it runs against the services (a check registered with GRPCUseTLS presents them).
 */
async function writeTlsConfig(dataDir: string, tls: NonNullable<ConsulAgentOptions["tls"]>): Promise<string> {
  const path = join(dataDir, "tls.hcl");
  const hcl = [
    "enable_agent_tls_for_checks = true",
    "tls {",
    "  defaults {",
    `    ca_file = ${JSON.stringify(tls.ca)}`,
    `    cert_file = ${JSON.stringify(tls.cert)}`,
    `    key_file = ${JSON.stringify(tls.key)}`,
    "  }",
    "}",
    "",
  ].join("\n");
  await writeFile(path, hcl);
  return path;
}
