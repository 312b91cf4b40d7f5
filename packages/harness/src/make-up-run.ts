// `make up` as a test runs it: the real scripts/up.ts, with free ports (<NAME>_PORT), its own nats-server
// (NATS_URL at a free port, so up.ts starts one with its store in the data dir) and a temp DATA_DIR. The test
// talks to it as a reader would, and checks at the end that Ctrl-C left no process behind. With `scale` and
// `natsNodes: 3`, `make up-cluster`'s configuration: every instance and the cluster's nodes at free ports too.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MESH_SERVICES, METRICS_PORTS, type MeshServiceName } from "@ftgo/platform";
import { canConnect, waitFor } from "@ftgo/platform/testing";
import { freePort } from "./service-instance.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface MakeUpRun {
  /** The pid of up.ts. */
  readonly pid: number;
  /** The nats-server up.ts started, at a free port; with `natsNodes: 3` the cluster's nodes, comma-separated. */
  readonly natsUrl: string;
  /** The port of each service (TypeScript and Go); the gateway's is gatewayPort. */
  readonly ports: Readonly<Record<MeshServiceName, number>>;
  /** With `scale` ≥ 2: the port of every instance after the first, by name (`order-2`). */
  readonly instancePorts: Readonly<Record<string, number>>;
  readonly gatewayPort: number;
  readonly dataDir: string;
  /** DATABASE=postgres: the URL of the PostgreSQL server up.ts started (its data in `<dataDir>/postgres`). */
  readonly databaseUrl?: string;
  /**
   * With `consul: true` or `discovery: "server"`: the HTTP address (`127.0.0.1:port`) of the Consul agent up.ts
   * uses, the one it started or the one the options gave.
   */
  readonly consulAddr?: string;
  /** With `discovery: "server"`: Traefik's gRPC entry point (`127.0.0.1:port`), which every call goes through. */
  readonly routerAddr?: string;
  /** With `discovery: "server"`: Traefik's API, `http://127.0.0.1:port`. */
  readonly routerApiUrl?: string;
  /** With `tracing: true`: Jaeger's query API, `http://127.0.0.1:port`. */
  readonly jaegerQueryUrl?: string;
  /** With `metrics: true`: each process's `http://127.0.0.1:port/metrics`, by name (METRICS_PORTS's names). */
  readonly metricsUrls?: Readonly<Record<string, string>>;
  /** With `metrics: true`: Prometheus's UI and API, `http://127.0.0.1:port`. */
  readonly prometheusUrl?: string;
  /** Everything up.ts printed so far, stdout and stderr. */
  output(): string;
  /** up.ts and every process under it, now. */
  processTree(): number[];
  /** The processes up.ts started itself, now, each with its command line (tsx's esbuild helpers left out). */
  children(): { pid: number; command: string }[];
  /** The nats-server up.ts started, or the cluster's nodes (their own process groups, so found by their stores). */
  natsPids(): number[];
  /** The Consul agent up.ts started (its own process group, so found by its data dir). */
  consulPids(): number[];
  /** DATABASE=postgres: the PostgreSQL server's processes (its postmaster and backends). */
  postgresPids(): number[];
  /** The Traefik up.ts started (its own process group, so found by its entry point's port). */
  traefikPids(): number[];
  /** The Jaeger up.ts started (its own process group, so found by its configuration in the data dir). */
  jaegerPids(): number[];
  /** The Prometheus up.ts started (its own process group, so found by its configuration in the data dir). */
  prometheusPids(): number[];
  /** Ctrl-C: SIGINT to up.ts, then its exit code once it has exited. */
  interrupt(timeoutMs: number): Promise<number | null>;
  /** SIGKILL to whatever is left, and the data dir removed: for afterAll, whatever happened. */
  dispose(): void;
}

export interface MakeUpOptions {
  /** Added to the environment of up.ts (RESTART=always, say). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long up.ts may take to print "ftgo-mesh is up". */
  readonly readyTimeoutMs: number;
  /** REGISTRY=consul, with CONSUL_HTTP_ADDR at a free port: up.ts starts a -dev agent there. */
  readonly consul?: boolean;
  /**
   * DISCOVERY=server, with ROUTER_PORT and ROUTER_API_PORT at free ports: up.ts starts Traefik there, on the
   * Consul agent at `consulAddr` if given (one already running), else on a -dev one it starts at a free port.
   */
  readonly discovery?: "client" | "server";
  /** CONSUL_HTTP_ADDR of a Consul agent already running, which up.ts then uses rather than start one. */
  readonly consulAddr?: string;
  /**
   * Jaeger, with its OTLP receiver and query API at free ports, and every process exporting its spans there.
   * Default false: TRACING=off, so that the tests about other things do not each run a Jaeger.
   */
  readonly tracing?: boolean;
  /**
   * Every process's /metrics and Prometheus, at free ports. Default false: METRICS=off, so that the tests about
   * other things do not each run a Prometheus.
   */
  readonly metrics?: boolean;
  /** SCALE: instances of each service, every one at a free port (`ORDER_2_PORT`, …). Default: unset. */
  readonly scale?: number;
  /** NATS_NODES=3: up.ts starts a three-node cluster, its client ports three consecutive free ones. Default 1. */
  readonly natsNodes?: 1 | 3;
  /** DATABASE=postgres: up.ts starts a PostgreSQL server at a free POSTGRES_PORT. Default: SQLite. */
  readonly database?: "sqlite" | "postgres";
}

/** Starts scripts/up.ts and resolves once it reports the mesh up; on failure, leaves nothing running and throws. */
export async function launchMakeUp(options: MakeUpOptions): Promise<MakeUpRun> {
  const { env = {}, readyTimeoutMs, consul = false, discovery = "client", tracing = false, metrics = false } = options;
  const { scale, natsNodes = 1 } = options;
  const dataDir = mkdtempSync(join(tmpdir(), "ftgo-up-"));
  const names = MESH_SERVICES.map((service) => service.name as MeshServiceName);
  const free = await Promise.all([...names, "nats", "gateway"].map(() => freePort()));
  const ports = Object.fromEntries(names.map((name, i) => [name, free[i]])) as Record<MeshServiceName, number>;
  const gatewayPort = free[names.length + 1] as number;
  /** Instances after the first of each service: `order-2`, …, `loyalty-2`, as up.ts names them. */
  const later = names.flatMap((name) =>
    Array.from({ length: Math.max(0, (scale ?? 1) - 1) }, (_, i) => `${name}-${i + 2}`),
  );
  const instancePorts = Object.fromEntries(await Promise.all(later.map(async (name) => [name, await freePort()])));
  const clusterPort = natsNodes === 3 ? await freePortRun(3) : undefined;
  const natsUrl =
    clusterPort === undefined
      ? `nats://127.0.0.1:${free[names.length]}`
      : [0, 1, 2].map((i) => `nats://127.0.0.1:${clusterPort + i}`).join(",");
  const upEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...env,
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(gatewayPort),
    NO_COLOR: "1",
  };
  // The cluster is up.ts's own: NATS_URL names no server then (up.ts refuses both).
  if (clusterPort === undefined) upEnv.NATS_URL = natsUrl;
  else Object.assign(upEnv, { NATS_NODES: "3", NATS_CLUSTER_PORT: String(clusterPort) });
  if (scale !== undefined) upEnv.SCALE = String(scale);
  const postgresPort = options.database === "postgres" ? await freePort() : undefined;
  if (postgresPort !== undefined) Object.assign(upEnv, { DATABASE: "postgres", POSTGRES_PORT: String(postgresPort) });
  for (const name of names) upEnv[`${name.toUpperCase()}_PORT`] = String(ports[name]);
  for (const name of later) upEnv[`${envName(name)}_PORT`] = String(instancePorts[name]);
  const server = discovery === "server";
  const consulAddr = options.consulAddr ?? (consul || server ? `127.0.0.1:${await freePort()}` : undefined);
  if (consulAddr) upEnv.CONSUL_HTTP_ADDR = consulAddr;
  if (consul) upEnv.REGISTRY = "consul";
  const [routerPort, routerApiPort] = server ? [await freePort(), await freePort()] : [];
  if (server) {
    Object.assign(upEnv, {
      DISCOVERY: "server",
      ROUTER_PORT: String(routerPort),
      ROUTER_API_PORT: String(routerApiPort),
    });
  }
  const [jaegerOtlpPort, jaegerQueryPort] = tracing ? [await freePort(), await freePort()] : [];
  if (tracing) {
    Object.assign(upEnv, { JAEGER_OTLP_PORT: String(jaegerOtlpPort), JAEGER_QUERY_PORT: String(jaegerQueryPort) });
  } else {
    upEnv.TRACING = "off";
  }
  const metricsUrls: Record<string, string> = {};
  let prometheusUrl: string | undefined;
  if (metrics) {
    for (const name of [...Object.keys(METRICS_PORTS), ...later]) {
      const port = await freePort();
      upEnv[`${envName(name)}_METRICS_PORT`] = String(port);
      metricsUrls[name] = `http://127.0.0.1:${port}/metrics`;
    }
    const port = await freePort();
    upEnv.PROMETHEUS_PORT = String(port);
    prometheusUrl = `http://127.0.0.1:${port}`;
  } else {
    upEnv.METRICS = "off";
  }
  const up: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/up.ts"], {
    cwd: ROOT,
    env: upEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  for (const stream of [up.stdout, up.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
  }
  /** Every pid ever seen under up.ts, so that dispose() also finds those whose parent has gone. */
  const seen = new Set<number>();
  const processTree = () => {
    const tree = up.pid ? descendants(up.pid) : [];
    for (const pid of tree) seen.add(pid);
    return tree;
  };
  const natsPids = () => pgrep(["-f", `nats-server.*${dataDir}`]);
  const consulPids = () => pgrep(["-f", `consul agent.*${dataDir}`]);
  const postgresPids = () =>
    postgresPort === undefined ? [] : pgrep(["-f", `postgres -D ${join(dataDir, "postgres")}`]);
  const traefikPids = () =>
    server ? pgrep(["-f", `traefik .*--entryPoints.grpc.address=127.0.0.1:${routerPort} `]) : [];
  const jaegerPids = () => (tracing ? pgrep(["-f", `jaeger --config ${join(dataDir, "jaeger")}`]) : []);
  const prometheusPids = () =>
    metrics ? pgrep(["-f", `prometheus --config.file=${join(dataDir, "prometheus")}`]) : [];
  const run: MakeUpRun = {
    pid: up.pid as number,
    natsUrl,
    ports,
    instancePorts,
    gatewayPort,
    dataDir,
    ...(postgresPort === undefined ? {} : { databaseUrl: `postgres://postgres@127.0.0.1:${postgresPort}/ftgo` }),
    consulAddr,
    routerAddr: server ? `127.0.0.1:${routerPort}` : undefined,
    routerApiUrl: server ? `http://127.0.0.1:${routerApiPort}` : undefined,
    jaegerQueryUrl: tracing ? `http://127.0.0.1:${jaegerQueryPort}` : undefined,
    metricsUrls: metrics ? metricsUrls : undefined,
    prometheusUrl,
    output: () => output,
    processTree,
    children: () =>
      pgrep(["-P", String(up.pid)])
        .map((pid) => ({ pid, command: commandOf(pid) }))
        .filter((child) => !child.command.includes("esbuild")),
    natsPids,
    consulPids,
    postgresPids,
    traefikPids,
    jaegerPids,
    prometheusPids,
    async interrupt(timeoutMs) {
      up.kill("SIGINT");
      await waitFor(() => up.exitCode !== null || up.signalCode !== null, {
        timeoutMs,
        message: "make up did not exit after SIGINT",
      });
      return up.exitCode;
    },
    dispose() {
      processTree();
      const left = [
        ...seen,
        ...natsPids(),
        ...consulPids(),
        ...postgresPids(),
        ...traefikPids(),
        ...jaegerPids(),
        ...prometheusPids(),
      ];
      for (const pid of left) if (alive(pid)) process.kill(pid, "SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      () => {
        processTree();
        return output.includes("ftgo-mesh is up") || up.exitCode !== null;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 200, message: "make up reporting ready" },
    );
    if (up.exitCode !== null) throw new Error(`make up exited with ${up.exitCode}`);
    return run;
  } catch (err) {
    run.dispose();
    throw new Error(`${(err as Error).message}\n${output}`, { cause: err });
  }
}

/** "order-2" → "ORDER_2", as up.ts reads `<NAME>_PORT`. */
function envName(name: string): string {
  return name.toUpperCase().replaceAll("-", "_");
}

/**
 * The first of `count` consecutive free ports (up.ts runs the cluster's nodes at NATS_CLUSTER_PORT and the next
 * ones): a free port whose next ones nothing listens on either.
 */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    const next = Array.from({ length: count - 1 }, (_, i) => first + i + 1);
    const taken = await Promise.all(next.map((port) => canConnect("127.0.0.1", port, 300)));
    if (next.every((port) => port < 65536) && !taken.some(Boolean)) return first;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** `pid` and every process under it. */
function descendants(pid: number): number[] {
  return [pid, ...pgrep(["-P", String(pid)]).flatMap(descendants)];
}

function pgrep(args: string[]): number[] {
  try {
    return execFileSync("pgrep", args, { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function commandOf(pid: number): string {
  try {
    return execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim();
  } catch {
    return ""; // ended meanwhile
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
