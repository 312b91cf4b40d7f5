// `make up` / `npm start`: the whole mesh on this machine, one process per service, their logs in one
// terminal. Uses the NATS server at NATS_URL, or starts one. Once everything is up, a process that dies does
// not take the others with it (lib/supervisor.ts): break one and watch, from another terminal, with
// `npm run mesh -- status|kill|start` (docs/break-it-and-watch.md). Ctrl-C stops everything it started.
// Environment: NATS_URL, DATA_DIR, LOG_LEVEL, FTGO_HOST, RESTART (no|always), and <NAME>_PORT per service
// and the gateway (ORDER_PORT=6051, GATEWAY_PORT=8081). REGISTRY=consul: the services register with the
// Consul agent at CONSUL_HTTP_ADDR (default 127.0.0.1:8500), which up starts in -dev mode unless one answers.
// DISCOVERY=server: server-side discovery. The same Consul agent, Traefik in front of it at ROUTER_PORT
// (default 8090; its API at ROUTER_API_PORT, 8091), and every call through Traefik; the services register
// nothing themselves: this supervisor registers each one once it is ready and deregisters it before it stops it
// or as soon as it dies (third-party registration, lib/registrar-hooks.ts).
// Traces: when Jaeger is built (`make jaeger`, which setup runs), up starts it (OTLP at JAEGER_OTLP_PORT, default
// 4318; its query API at JAEGER_QUERY_PORT, default 16686) and every process exports its spans there. TRACING=off,
// or no Jaeger, runs everything as before, with tracing off (docs/observability.md).
// Metrics: every process serves GET /metrics at its METRICS_PORT (the roster's METRICS_PORTS; <NAME>_METRICS_PORT
// overrides one), and when Prometheus is installed up starts it at PROMETHEUS_PORT (default 9090), scraping them
// all. METRICS=off: no metrics port and no Prometheus.
// SECURE=1: the secure mode (docs/security.md): mTLS on every gRPC call with the access table of proto/access.json,
// NATS over TLS with a user and subject permissions per process, all from the mesh CA of scripts/pki.sh (made in
// FTGO_PKI_DIR, default .pki, on first use). Without it, the learner's mode: plaintext, every local caller trusted.
// SCALE=N (1-4, default 1): N instances of each service, Go's Loyalty too, sharing its database; instance k ≥ 2
// is `<service>-k`, at the first one's ports + 100·(k−1) (lib/instances.ts; ORDER_2_PORT overrides one).
// NATS_NODES=3 (default 1): a three-node JetStream cluster (startNatsCluster) at NATS_CLUSTER_PORT
// (default 4222) and the next two, stores in DATA_DIR/nats-cluster, every stream with three replicas; not with
// NATS_URL or SECURE=1. DATABASE=postgres: every service keeps its data in its own schema of a PostgreSQL server
// started here (data in DATA_DIR/postgres, port POSTGRES_PORT, default 5432) instead of a SQLite file;
// DATABASE_URL=postgres://… uses a server of yours. `make up-cluster` is SCALE=2 NATS_NODES=3 DATABASE=postgres
// (docs/scaling.md).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CONSUL_DEV_PORTS, type ConsulAgent, consulAnswers, startConsulAgent } from "@ftgo/harness/consul-agent.js";
import { buildGoProgram } from "@ftgo/harness/go-toolchain.js";
import { JAEGER_STANDARD_PORTS, JAEGER_VERSION, type Jaeger, jaegerBinary, startJaeger } from "@ftgo/harness/jaeger.js";
import { residentBytes } from "@ftgo/harness/process-progress.js";
import {
  PROMETHEUS_STANDARD_PORT,
  type Prometheus,
  prometheusBinary,
  type ScrapeTarget,
  startPrometheus,
} from "@ftgo/harness/prometheus.js";
import { natsAnswers, waitUntilReady } from "@ftgo/harness/readiness.js";
import { buildServices, bundleCommand, type ProgramCommand } from "@ftgo/harness/service-build.js";
import { type ServiceProcess, startServiceProcess } from "@ftgo/harness/service-process.js";
import { startTraefik, TRAEFIK_VERSION, type Traefik } from "@ftgo/harness/traefik.js";
import {
  COURIERS,
  createRegistrar,
  GATEWAY,
  GO_SERVICES,
  MESH_SERVICES,
  METRICS_PORTS,
  SERVICES,
  silentLogger,
} from "@ftgo/platform";
import {
  canConnect,
  type NatsClusterHandle,
  type NatsServerHandle,
  type PostgresServerHandle,
  startNatsCluster,
  startNatsServer,
  startPostgresServer,
} from "@ftgo/platform/testing";
import { type ControlServer, startControlServer } from "./lib/control.js";
import { waitUntilCouriersAnswer } from "./lib/courier-probe.js";
import {
  databaseFrom,
  type Instance,
  instancePort,
  instancesOf,
  natsNodesFrom,
  SettingError,
  scaleFrom,
} from "./lib/instances.js";
import { createLogMux, formatLogLine, painter } from "./lib/log-format.js";
import { createRegistrarHooks, type RegistrarHooks } from "./lib/registrar-hooks.js";
import { type SecureMode, secureMode, secureModeWanted, TRY_LEARNER } from "./lib/secure-mode.js";
import {
  type ControlAnswer,
  createSupervisor,
  type ProcessKind,
  type ProcessSpec,
  type ProcessStatus,
  type RestartPolicy,
} from "./lib/supervisor.js";

/**
 * How long a process may take to become ready while it runs. A process that exits fails at once; one that
 * runs but never answers is given this long, far more than a loaded machine needs (ten Node processes
 * starting at once, TSX=1 transpiling them too), so the cap only catches a process that is stuck.
 */
const READY_CAP_MS = 180_000;
const STOP_GRACE_MS = 10_000;
/** The "Try:" lines' CreateOrder request. */
const ORDER_JSON = `{"consumerId":"c-1001","restaurantId":"r-1","lineItems":[{"menuItemId":"m-1","quantity":2}]}`;
/** Listed by `make status` but not supervised: every service needs them. */
const UNSUPERVISED = new Set(["nats-server", "consul", "traefik", "jaeger", "prometheus"]);
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::"]);
/** How long the NATS cluster's three nodes may take to elect a JetStream meta leader on a loaded machine. */
const CLUSTER_START_MS = 60_000;

const root = fileURLToPath(new URL("..", import.meta.url));
const env = process.env;
/** A value of SCALE or NATS_NODES up refuses: said (all of them) as soon as the log can, before anything starts. */
const refused: string[] = [];
/** SCALE: instances of each service (lib/instances.ts). */
const scale = setting(() => scaleFrom(env.SCALE), 1);
/** NATS_NODES: one nats-server, or a cluster of three started here. */
const natsNodes = setting(
  () => natsNodesFrom(env.NATS_NODES, { natsUrl: env.NATS_URL, secure: secureModeWanted(env.SECURE) }),
  1,
);
/** DATABASE: SQLite files (default), or a PostgreSQL server started here; "external" with DATABASE_URL. */
const database = setting(() => databaseFrom(env.DATABASE, env.DATABASE_URL), "sqlite");
const color = Boolean(process.stdout.isTTY) && !env.NO_COLOR;
const paint = painter(color);
const log = createLogMux(
  [
    "up",
    "nats",
    "consul",
    "traefik",
    "jaeger",
    "prometheus",
    ...(database === "postgres" ? ["postgres"] : []),
    ...(natsNodes === 3 ? ["nats n1", "nats n2", "nats n3"] : []),
    ...[...SERVICES, ...GO_SERVICES].flatMap((s) => instancesOf(s.name, scale).map((instance) => instance.name)),
    GATEWAY.name,
    ...COURIERS.map((c) => c.id),
  ],
  {
    color,
  },
);
const say = (text: string) => log("up", text);
const shout = (text: string) => log("up", paint("1;31", text));
if (refused.length > 0) {
  for (const problem of refused) shout(problem);
  process.exit(1);
}

/** SECURE=1: certificates for every process, and the broker's users (lib/secure-mode.ts). */
const secure: SecureMode | undefined = secureModeWanted(env.SECURE) ? secureMode(root, env) : undefined;
/** NATS_NODES=3: the cluster's client ports, NATS_CLUSTER_PORT and the next two (4222, the tools' default, first). */
const clusterPorts = natsNodes === 3 ? [0, 1, 2].map((i) => portFromEnv("NATS_CLUSTER_PORT", 4222) + i) : [];
/**
 * What every process gets as NATS_URL: the cluster's servers comma-separated, or the one server. In the secure
 * mode the broker speaks only TLS: tls://, which every client then insists on.
 */
const natsUrl =
  natsNodes === 3
    ? clusterPorts.map((port) => `nats://127.0.0.1:${port}`).join(",")
    : (env.NATS_URL || "nats://127.0.0.1:4222").replace(/^nats:\/\//, secure ? "tls://" : "nats://");
const dataDir = resolve(env.DATA_DIR || join(root, "data"));
const postgresPort = portFromEnv("POSTGRES_PORT", 5432);
const logLevel = env.LOG_LEVEL || "info";
const bindHost = env.FTGO_HOST || "127.0.0.1";
const dialHost = bindHost === "0.0.0.0" || bindHost === "::" ? "127.0.0.1" : bindHost;
const restart = restartPolicy(env.RESTART);
/** TSX=1: run the services' sources with tsx, as before the build step (no build; slower starts). */
const withTsx = env.TSX === "1";
const registry = registryKind(env.REGISTRY);
const consulAddr = env.CONSUL_HTTP_ADDR || "127.0.0.1:8500";
const discovery = discoveryMode(env.DISCOVERY);
/** Server-side discovery needs Consul as much as REGISTRY=consul does: the registrar and the router use it. */
const needsConsul = registry === "consul" || discovery === "server";
/** Traefik's gRPC entry point, the one address every caller dials, and its API (on 127.0.0.1, as it binds them). */
const routerPort = portFromEnv("ROUTER_PORT", 8090);
const routerApiPort = portFromEnv("ROUTER_API_PORT", 8091);
const routerAddr = `127.0.0.1:${routerPort}`;
/** Jaeger, when built and not turned off: where every process sends its spans, and where they are read. */
const tracingWanted = onOff("TRACING", env.TRACING);
/** An OTLP endpoint of the reader's own (a full Jaeger with its UI, say): then up starts no Jaeger and uses that. */
const ownTracesEndpoint = tracingWanted ? env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined : undefined;
/** Whether up starts Jaeger: tracing on, no endpoint of the reader's, and Jaeger built (setup builds it first). */
const startsJaeger = tracingWanted && !ownTracesEndpoint && jaegerBinary() !== undefined;
const jaegerPorts = {
  otlpHttp: portFromEnv("JAEGER_OTLP_PORT", JAEGER_STANDARD_PORTS.otlpHttp),
  query: portFromEnv("JAEGER_QUERY_PORT", JAEGER_STANDARD_PORTS.query),
};
const goNames = new Set<string>(GO_SERVICES.map((s) => s.name));
/** METRICS=off: no process serves /metrics, and no Prometheus. */
const metricsWanted = onOff("METRICS", env.METRICS);
/** Whether up starts Prometheus: metrics on, and Prometheus installed. */
const startsPrometheus = metricsWanted && prometheusBinary() !== undefined;
/** Each process's /metrics port, by name: a service's instance k at its first one's + 100·(k−1). */
const metricsPorts = new Map(
  metricsWanted
    ? Object.entries(METRICS_PORTS).flatMap(([name, port]) =>
        scaledInstances(name).map((instance): [string, number] => [
          instance.name,
          portFromEnv(`${envName(instance.name)}_METRICS_PORT`, instancePort(port, instance.index)),
        ]),
      )
    : [],
);
const prometheusPort = portFromEnv("PROMETHEUS_PORT", PROMETHEUS_STANDARD_PORT);
/**
 * The services (TypeScript, each instance of it, then Go), then the gateway (HTTP: ready once it accepts
 * connections), each at its port.
 */
const listeners = [...SERVICES, ...GO_SERVICES, GATEWAY].flatMap((entry) =>
  scaledInstances(entry.name).map(({ name, service, index }) => {
    const port = portFromEnv(`${envName(name)}_PORT`, instancePort(entry.port, index));
    const kind: ProcessKind = name === GATEWAY.name ? "gateway" : goNames.has(service) ? "go-service" : "service";
    return { name, service, index, port, address: `${dialHost}:${port}`, kind };
  }),
);

/** DISCOVERY=server: the supervisor is the registrar of every process the router calls (not the gateway, not couriers). */
const supervisorHooks: RegistrarHooks | undefined =
  discovery === "server"
    ? createRegistrarHooks({
        registrar: createRegistrar({ consulAddr, log: silentLogger() }),
        addressOf: (name) => {
          const entry = listeners.find((listener) => listener.name === name && listener.kind !== "gateway");
          return entry && { service: entry.service, address: dialHost, port: entry.port };
        },
        say,
        shout,
      })
    : undefined;

const supervisor = createSupervisor(
  [
    ...listeners.map(
      (entry): ProcessSpec => ({
        name: entry.name,
        kind: entry.kind,
        address: entry.address,
        // A second instance starts once the first is ready, so that one alone creates their database's schema.
        after: entry.index > 1 ? entry.service : undefined,
        spawn: () => startProcess(entry.name, entry.kind, { PORT: String(entry.port) }, entry.service),
        ready: (signal) =>
          waitUntilReady(entry.address, {
            probe: entry.kind === "gateway" ? "tcp" : "grpc",
            timeoutMs: READY_CAP_MS,
            signal,
            tls: probeTls(),
          }),
      }),
    ),
    // No port: a courier answers Delivery's quote requests over NATS, so it is ready once it answers one.
    ...COURIERS.map(
      (courier): ProcessSpec => ({
        name: courier.id,
        kind: "courier",
        spawn: () =>
          startProcess(courier.id, "courier", {
            COURIER_ID: courier.id,
            COURIER_MINUTES: String(courier.minutes),
            COURIER_PRICE: String(courier.price),
          }),
        ready: (signal) =>
          waitUntilCouriersAnswer(natsUrl, [courier.id], {
            timeoutMs: READY_CAP_MS,
            signal,
            tls: secure?.files("admin"),
          }),
      }),
    ),
  ],
  { restart, say, shout, hooks: supervisorHooks },
);

/** DATABASE=postgres: the server, and its start (so that a Ctrl-C meanwhile still stops it). */
let postgres: PostgresServerHandle | undefined;
let postgresStarting: Promise<PostgresServerHandle> | undefined;
/** What every process gets as DATABASE_URL; unset on SQLite. */
let databaseUrl: string | undefined = env.DATABASE_URL || undefined;
let nats: NatsServerHandle | undefined;
/** Set while nats-server starts, so that a Ctrl-C meanwhile still stops it. */
let natsStarting: Promise<NatsServerHandle | undefined> | undefined;
/** NATS_NODES=3: the cluster, and its start (so that a Ctrl-C meanwhile still stops it). */
let natsCluster: NatsClusterHandle | undefined;
let natsClusterStarting: Promise<NatsClusterHandle> | undefined;
let consul: ConsulAgent | undefined;
/** Set while the Consul agent starts, so that a Ctrl-C meanwhile still stops it. */
let consulStarting: Promise<ConsulAgent | undefined> | undefined;
/** Set while Traefik starts, so that a Ctrl-C meanwhile still stops it. */
let traefikStarting: Promise<Traefik> | undefined;
let traefik: Traefik | undefined;
/** Set while Jaeger starts, so that a Ctrl-C meanwhile still stops it. */
let jaegerStarting: Promise<Jaeger | undefined> | undefined;
let jaeger: Jaeger | undefined;
/** Set while Prometheus starts, so that a Ctrl-C meanwhile still stops it. */
let prometheusStarting: Promise<Prometheus | undefined> | undefined;
let prometheus: Prometheus | undefined;
let control: ControlServer | undefined;
let stopping: Promise<never> | undefined;

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (stopping) return; // npm and tsx relay the same Ctrl-C: one is enough
    say(`${signal}: stopping every service`);
    // Ctrl-C in a terminal reaches the whole foreground process group: the services already have it.
    void stopAll(0, { alreadySignalled: signal === "SIGINT" && Boolean(process.stdin.isTTY) });
  });
}

try {
  if (secure) {
    if (discovery === "server") {
      throw new Error(
        "SECURE=1 has every process call the others directly, each end checking the other's certificate: " +
          "DISCOVERY=server (through Traefik) is the learner's mode only (docs/security.md)",
      );
    }
    secure.ensureCertificates();
    say(`secure mode: the mesh CA and every process's certificate in ${secure.pkiDir} (scripts/pki.sh)`);
  }
  await ensurePortsFree();
  if (database === "postgres") {
    postgresStarting = startPostgres();
    postgres = await postgresStarting;
    databaseUrl = postgres.url;
  }
  if (stopping) await stopping;
  if (natsNodes === 3) {
    natsClusterStarting = startCluster();
    natsCluster = await natsClusterStarting;
  } else {
    natsStarting = ensureNats();
    nats = await natsStarting;
  }
  if (stopping) await stopping;
  if (needsConsul) {
    consulStarting = ensureConsul();
    consul = await consulStarting;
    if (stopping) await stopping;
  }
  jaegerStarting = ensureJaeger();
  jaeger = await jaegerStarting;
  if (stopping) await stopping;
  prometheusStarting = ensurePrometheus();
  prometheus = await prometheusStarting;
  if (stopping) await stopping;
  if (discovery === "server") {
    traefikStarting = ensureTraefik();
    traefik = await traefikStarting;
    if (stopping) await stopping;
  }
  await buildGoServices();
  if (stopping) await stopping;
  await buildTypeScriptServices();
  if (stopping) await stopping;
  say(
    `waiting for ${listeners.length} services to be ready (gRPC SERVING; the gateway accepting connections) and ` +
      `${COURIERS.length} couriers to answer a quote`,
  );
  await supervisor.startAll();
  supervisor.supervise();
  control = await startControlServer({ status, start, kill }, dataDir);
  printSummary();
} catch (err) {
  if (!stopping) {
    shout(err instanceof Error ? err.message : String(err));
    await stopAll(1);
  }
}

/**
 * Stops the processes (all at once, those started later too; each deregisters itself first, or under
 * DISCOVERY=server is deregistered by the supervisor before it is signalled), then Traefik, then the Consul
 * agent and NATS if we started them, then exits.
 */
function stopAll(exitCode: number, options: { alreadySignalled?: boolean } = {}): Promise<never> {
  stopping ??= (async () => {
    await control?.close();
    const forced = await supervisor.stopAll({ graceMs: STOP_GRACE_MS, ...options });
    for (const name of forced) shout(`${name} did not stop within ${STOP_GRACE_MS / 1000} s: killed`);
    await supervisorHooks?.close();
    const router = traefik ?? (await traefikStarting?.catch(() => undefined));
    if (router) await router.stop();
    // After the services: their last spans, the stop's own, have been exported by then.
    const traces = jaeger ?? (await jaegerStarting?.catch(() => undefined));
    if (traces) await traces.stop();
    const scraper = prometheus ?? (await prometheusStarting?.catch(() => undefined));
    if (scraper) await scraper.stop();
    const agent = consul ?? (await consulStarting?.catch(() => undefined));
    if (agent) await agent.stop();
    const started = nats ?? (await natsStarting?.catch(() => undefined));
    if (started) await started.stop();
    const cluster = natsCluster ?? (await natsClusterStarting?.catch(() => undefined));
    if (cluster) await cluster.stop();
    const pg = postgres ?? (await postgresStarting?.catch(() => undefined));
    if (pg) await pg.stop();
    say(exitCode === 0 ? "everything stopped" : "everything stopped after the failure above");
    process.exit(exitCode);
  })();
  return stopping;
}

/** Every process, nats-server included when `up` started it (listed, not supervised: the rest need it). */
function status(): ProcessStatus[] {
  const natsRow: ProcessStatus[] = nats
    ? [{ name: "nats-server", kind: "nats-server", address: natsUrl, pid: nats.pid, state: "ready", restarts: 0 }]
    : (natsCluster?.nodes ?? []).map((node) => ({
        name: `nats-${node.name}`,
        kind: "nats-server",
        address: node.url,
        pid: node.pid,
        state: "ready",
        restarts: 0,
      }));
  const consulRow: ProcessStatus[] = consul
    ? [{ name: "consul", kind: "consul", address: consulAddr, pid: consul.pid, state: "ready", restarts: 0 }]
    : [];
  const traefikRow: ProcessStatus[] = traefik
    ? [{ name: "traefik", kind: "traefik", address: traefik.grpcAddr, pid: traefik.pid, state: "ready", restarts: 0 }]
    : [];
  const jaegerRow: ProcessStatus[] = jaeger
    ? [{ name: "jaeger", kind: "jaeger", address: jaeger.queryUrl, pid: jaeger.pid, state: "ready", restarts: 0 }]
    : [];
  const prometheusRow: ProcessStatus[] = prometheus
    ? [
        {
          name: "prometheus",
          kind: "prometheus",
          address: prometheus.url,
          pid: prometheus.pid,
          state: "ready",
          restarts: 0,
        },
      ]
    : [];
  return [...supervisor.status(), ...natsRow, ...consulRow, ...traefikRow, ...jaegerRow, ...prometheusRow];
}

function start(name: string): Promise<ControlAnswer> {
  return unsupervised(name) ? notSupervised(name) : supervisor.start(name);
}

function kill(name: string, signal: NodeJS.Signals): Promise<ControlAnswer> {
  return unsupervised(name) ? notSupervised(name) : supervisor.kill(name, signal);
}

/** nats-server, a node of the cluster (`nats-n2`), Consul, …: what every service needs. */
function unsupervised(name: string): boolean {
  return UNSUPERVISED.has(name) || /^nats-n\d$/.test(name);
}

async function notSupervised(name: string): Promise<ControlAnswer> {
  const message = `${name} is not supervised: every service needs it. Ctrl-C \`make up\` stops it with the rest`;
  return { ok: false, message };
}

/**
 * The Consul agent at CONSUL_HTTP_ADDR if one answers with a leader; else a -dev agent we start (and stop, after
 * the services have deregistered) on Consul's default ports, with its data in data/consul. Built by `make consul`.
 */
async function ensureConsul(): Promise<ConsulAgent | undefined> {
  if (await consulAnswers(consulAddr)) {
    say(`using the Consul agent already running at ${consulAddr}`);
    return undefined;
  }
  const url = new URL(consulAddr.includes("://") ? consulAddr : `http://${consulAddr}`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!LOCAL_HOSTS.has(host) || url.protocol !== "http:") {
    throw new Error(`no Consul agent answers at ${consulAddr}, and up.ts can only start one on this machine`);
  }
  say("making sure the Consul agent is built (scripts/consul.sh, as `make consul`)");
  await runBuildScript("consul.sh");
  if (stopping) await stopping;
  const consulData = join(dataDir, "consul");
  say(`starting a Consul agent in -dev mode at ${consulAddr} (data ${consulData})`);
  const onCrash = (how: string) => {
    shout(`the Consul agent ended (${how}), unexpectedly: stopping everything`);
    void stopAll(1);
  };
  // detached: its own process group, so that Ctrl-C cannot stop it before the services have deregistered.
  return startConsulAgent({
    // The HTTP API and UI where CONSUL_HTTP_ADDR says; the agent's internal ports (serf, RPC, gRPC) free ones.
    ports: { http: Number(url.port || CONSUL_DEV_PORTS.http) },
    dataDir: consulData,
    detached: true,
    // Warnings and errors while it runs; its shutdown (after the services have deregistered) is noise.
    onLog: (line) => {
      if (!stopping) log("consul", line);
    },
    onCrash,
    // SECURE=1: its gRPC health checks of the services present the registry's own certificate.
    tls: secure?.files("consul"),
  });
}

/**
 * Traefik, the router of server-side discovery, built by `make traefik` (a no-op once built): its gRPC entry
 * point at ROUTER_PORT and its API at ROUTER_API_PORT, routing from the Consul agent's catalog. Always started
 * here (and stopped after the services, before the agent): only up.ts's registrations give it routes.
 */
async function ensureTraefik(): Promise<Traefik> {
  say("making sure Traefik is built (scripts/traefik.sh, as `make traefik`)");
  await runBuildScript("traefik.sh");
  if (stopping) await stopping;
  say(`starting Traefik ${TRAEFIK_VERSION} at ${routerAddr}, routing from Consul's catalog at ${consulAddr}`);
  const onCrash = (how: string) => {
    shout(`Traefik ended (${how}), unexpectedly: stopping everything`);
    void stopAll(1);
  };
  // detached: its own process group, so that Ctrl-C cannot stop the router before the services have drained.
  return startTraefik({
    consulAddr,
    ports: { grpc: routerPort, api: routerApiPort },
    detached: true,
    onLog: (line) => {
      if (!stopping) log("traefik", line);
    },
    onCrash,
  });
}

/**
 * Jaeger, the traces back-end, when `make jaeger` has built it (setup does) and TRACING is not off: started with
 * OTLP/HTTP at JAEGER_OTLP_PORT and its query API at JAEGER_QUERY_PORT, its configuration in the data dir. Not
 * built: the mesh runs without tracing, as the ready table says. Never built here: it takes ten minutes.
 */
async function ensureJaeger(): Promise<Jaeger | undefined> {
  if (!tracingWanted) {
    say("TRACING=off: no Jaeger, and no process exports spans");
    return undefined;
  }
  if (ownTracesEndpoint) {
    say(`exporting spans to ${ownTracesEndpoint} (OTEL_EXPORTER_OTLP_ENDPOINT): no Jaeger started here`);
    return undefined;
  }
  if (!startsJaeger) {
    say("no Jaeger here (`make jaeger` builds it, ~10 min the first time): tracing is off");
    return undefined;
  }
  say(
    `starting Jaeger ${JAEGER_VERSION}: OTLP at http://127.0.0.1:${jaegerPorts.otlpHttp}, query API at http://127.0.0.1:${jaegerPorts.query}`,
  );
  const onCrash = (how: string) => {
    shout(`Jaeger ended (${how}), unexpectedly: stopping everything`);
    void stopAll(1);
  };
  // detached: its own process group, so that Ctrl-C cannot stop it before the services have sent their last spans.
  return startJaeger({
    ports: jaegerPorts,
    configDir: join(dataDir, "jaeger"),
    detached: true,
    onLog: (line) => {
      // Its one warning on every start: a build from the Go module has no web UI assets (docs/observability.md).
      if (!stopping && !line.includes("ui assets not embedded")) log("jaeger", line);
    },
    onCrash,
  });
}

/**
 * Prometheus, when installed (Debian's package; setup installs it) and METRICS is not off: at PROMETHEUS_PORT,
 * scraping every process's /metrics (file-based discovery: the targets file in data/prometheus), with the
 * recording rules of prometheus/rules.yml. Not installed: the processes still serve /metrics.
 */
async function ensurePrometheus(): Promise<Prometheus | undefined> {
  if (!metricsWanted) {
    say("METRICS=off: no /metrics ports, and no Prometheus");
    return undefined;
  }
  if (!startsPrometheus) {
    say(
      "no Prometheus here (`sudo apt-get install prometheus`, or scripts/setup.sh): every process still serves /metrics",
    );
    return undefined;
  }
  // Every instance of a service under its service's name: Prometheus tells them apart by their `instance` label.
  const targets: ScrapeTarget[] = [...metricsPorts].map(([name, port]) => ({
    service: listeners.find((entry) => entry.name === name)?.service ?? name,
    address: `${dialHost}:${port}`,
  }));
  say(`starting Prometheus at http://127.0.0.1:${prometheusPort}, scraping ${targets.length} processes' /metrics`);
  const onCrash = (how: string) => {
    shout(`Prometheus ended (${how}), unexpectedly: stopping everything`);
    void stopAll(1);
  };
  return startPrometheus({
    port: prometheusPort,
    dir: join(dataDir, "prometheus"),
    targets,
    detached: true,
    onLog: (line) => {
      if (!stopping) log("prometheus", line);
    },
    onCrash,
  });
}

/** A build script of scripts/ (`make consul`, `make traefik`): a no-op once built; the first time it says how long it takes, and shows progress, here. */
async function runBuildScript(script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const build = spawn("bash", [join(root, "scripts", script)], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    });
    build.once("error", reject);
    build.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`scripts/${script} failed (exit ${code})`)),
    );
  });
}

/** The NATS server at NATS_URL if one answers; else a local one we start (and stop) with a store in data/nats. */
async function ensureNats(): Promise<NatsServerHandle | undefined> {
  if (await natsAnswers(natsUrl)) {
    say(`using the NATS server already running at ${natsUrl}`);
    return undefined;
  }
  const url = new URL(natsUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 4222);
  if (!LOCAL_HOSTS.has(host)) {
    throw new Error(`no NATS server answers at ${natsUrl}, and up.ts can only start one on this machine`);
  }
  const storeDir = join(dataDir, "nats");
  say(`starting nats-server with JetStream at ${natsUrl} (store ${storeDir})`);
  const onLog = (line: string) => {
    if (!line.includes("[INF]")) log("nats", line); // warnings and errors only: the banner is long
  };
  const onCrash = (how: string) => {
    shout(`nats-server ended (${how}), unexpectedly: stopping everything`);
    void stopAll(1);
  };
  // detached: its own process group, so that Ctrl-C cannot stop NATS before the services have drained into it.
  // SECURE=1: TLS only, each client's certificate mapped to its user and that user's permissions.
  const broker = secure ? { pkiDir: secure.pkiDir, partitions: Number(env.FTGO_PARTITIONS || 4) } : {};
  return startNatsServer({ host, port, storeDir, detached: true, onLog, onCrash, ...broker });
}

/**
 * NATS_NODES=3: a three-node JetStream cluster (startNatsCluster, tested with the chaos tests) at the client ports
 * of clusterPorts, its route and monitoring ports free ones, each node's store in data/nats-cluster/n1… (kept, so a
 * restart finds its streams again; their groups take a few seconds to elect leaders then, which the services wait
 * out). Stopped after the services, as the single server is.
 */
async function startCluster(): Promise<NatsClusterHandle> {
  const storeDir = join(dataDir, "nats-cluster");
  say(`starting a three-node NATS cluster with JetStream at ${natsUrl} (stores in ${storeDir})`);
  return startNatsCluster({
    nodes: 3,
    clientPorts: clusterPorts,
    storeDir,
    startTimeoutMs: CLUSTER_START_MS,
    // detached: their own process groups, so that Ctrl-C cannot stop NATS before the services have drained into it.
    detached: true,
    onLog: (node, line) => {
      // Warnings and errors only; and not, while the nodes start together, those about routes not up yet.
      const startUpNoise = !natsCluster && /connect to route|routing to be established/.test(line);
      if (!line.includes("[INF]") && !startUpNoise) log(`nats ${node}`, line);
    },
    onCrash: (node, how) => {
      shout(`NATS node ${node} ended (${how}), unexpectedly: the other two keep the cluster going`);
    },
  });
}

/** A port already taken would make the health check below pass against someone else's server. */
async function ensurePortsFree(): Promise<void> {
  const router =
    discovery === "server"
      ? [
          { name: "traefik", host: "127.0.0.1", port: routerPort },
          { name: "traefik's API", host: "127.0.0.1", port: routerApiPort },
        ]
      : [];
  const metrics = [
    ...[...metricsPorts].map(([name, port]) => ({ name: `${name}'s /metrics`, host: dialHost, port })),
    ...(startsPrometheus ? [{ name: "prometheus", host: "127.0.0.1", port: prometheusPort }] : []),
  ];
  const traces = startsJaeger
    ? [
        { name: "jaeger's OTLP receiver", host: "127.0.0.1", port: jaegerPorts.otlpHttp },
        { name: "jaeger's query API", host: "127.0.0.1", port: jaegerPorts.query },
      ]
    : [];
  const cluster = clusterPorts.map((port, i) => ({ name: `nats n${i + 1}`, host: "127.0.0.1", port }));
  const wanted = [
    ...(database === "postgres" ? [{ name: "postgres", host: "127.0.0.1", port: postgresPort }] : []),
    ...cluster,
    ...listeners.map((entry) => ({ name: entry.name, host: dialHost, port: entry.port })),
    ...router,
    ...traces,
    ...metrics,
  ];
  const taken = await Promise.all(wanted.map((entry) => canConnect(entry.host, entry.port, 500)));
  const busy = wanted.filter((_, i) => taken[i]).map((entry) => `${entry.name} (${entry.host}:${entry.port})`);
  if (busy.length > 0) {
    throw new Error(`already in use: ${busy.join(", ")}. Is another \`make up\` running? (ss -ltnp shows who has it)`);
  }
}

/**
 * `go build`s every Go service (scripts/build-go.sh) before anything starts: the first time it compiles, after
 * that Go's build cache makes it a no-op unless a source changed. A `make start` later runs the binary built here.
 */
async function buildGoServices(): Promise<void> {
  for (const { name } of GO_SERVICES) {
    say(`building ${name} (go build ./go/cmd/${name}; the first build takes a minute or two)`);
    await buildGoProgram(name, 0); // no limit: a cold first build takes what it takes, and Ctrl-C still stops it
  }
}

/**
 * Bundles the TypeScript services (service-build.ts) when a source changed since their last build: each then
 * starts with plain `node`, without transpiling anything. A no-op (a hash of each input) when nothing changed.
 */
async function buildTypeScriptServices(): Promise<void> {
  if (withTsx) {
    say("TSX=1: running the services' sources with tsx (no build)");
    return;
  }
  const started = performance.now();
  const builds = await buildServices();
  const rebuilt = builds.filter((b) => b.rebuilt).map((b) => b.dir);
  const took = `${Math.round(performance.now() - started)} ms`;
  say(
    rebuilt.length > 0
      ? `built ${rebuilt.join(", ")} (esbuild, ${took}; npm run build:services)`
      : `services' bundles up to date (${took})`,
  );
}

/**
 * Runs `name`: a TypeScript service, the gateway or a courier from its bundle of `services/<dir>/src/main.ts`
 * (dir `courier` for couriers; with TSX=1 the sources through tsx), a Go service from its binary in go/bin.
 * Its log lines go to this terminal.
 */
function startProcess(name: string, kind: ProcessKind, own: Record<string, string>, service = name): ServiceProcess {
  const firsts = listeners.filter((s) => s.index === 1);
  const addresses = Object.fromEntries(firsts.map((s) => [`${envName(s.name)}_ADDRESS`, s.address]));
  const dir = kind === "courier" ? "courier" : service;
  const run: ProgramCommand =
    kind === "go-service"
      ? { command: join(root, "go", "bin", service), args: [], env: {} }
      : withTsx
        ? { command: process.execPath, args: ["--import", "tsx", join("services", dir, "src", "main.ts")], env: {} }
        : bundleCommand(dir, root);
  return startServiceProcess({
    name,
    command: run.command,
    args: run.args,
    cwd: root,
    env: {
      ...env,
      ...run.env,
      ...addresses,
      ...own,
      DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      NATS_URL: natsUrl,
      // The cluster: every stream (channels, dead letters, the registry's bucket) on all three nodes.
      ...(natsCluster ? { FTGO_STREAM_REPLICAS: "3" } : {}),
      ...(registry === "consul" ? { REGISTRY: registry, CONSUL_HTTP_ADDR: consulAddr } : {}),
      // Every caller dials the router; and the services, which it calls, register nothing (up.ts does).
      ...(discovery === "server" && kind !== "courier" ? { DISCOVERY: "server", DISCOVERY_ROUTER: routerAddr } : {}),
      LOG_LEVEL: logLevel,
      FTGO_HOST: bindHost,
      // SECURE=1: the process's own certificate (a service's, the gateway's, a courier's), named as it is: every
      // instance of a service as that service.
      ...(secure ? secure.tlsEnv(service) : {}),
      // Every process sends its spans to Jaeger (or to the reader's own endpoint), as itself: a courier as the
      // courier it is, `order-2` as order. TRACING=off: nowhere, whatever the environment says.
      ...(jaeger ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl } : {}),
      ...(jaeger || ownTracesEndpoint ? { OTEL_SERVICE_NAME: service } : { OTEL_SDK_DISABLED: "true" }),
      // The development sign-in (POST /api/v1/auth/token, the dashboard's button), off unless asked for: the
      // README's and the docs' flows sign in with it.
      ...(kind === "gateway" ? { DEV_SIGN_IN: "1" } : {}),
      // The dashboard draws an order's trace from Jaeger's query API.
      ...(jaeger && kind === "gateway" ? { JAEGER_QUERY_URL: jaeger.queryUrl } : {}),
      ...(metricsPorts.has(name) ? { METRICS_PORT: String(metricsPorts.get(name)) } : {}),
    },
    onLine: (line) => log(name, formatLogLine(line, { color })),
  });
}

function printSummary(): void {
  const names = [...listeners.map((s) => s.name), ...COURIERS.map((c) => c.id), "saga mode", "instances"];
  const width = Math.max(...names.map((name) => name.length)) + 2;
  const row = (label: string, value: string) => `  ${label.padEnd(width)}${value}`;
  const grpcurl = findGrpcurl();
  const hint = grpcurl ? [] : ["  (no grpcurl here: `scripts/setup.sh --with-test-tools` installs it)"];
  say(
    [
      paint("1;32", "ftgo-mesh is up"),
      ...listeners.map((entry) =>
        row(
          entry.name,
          `${entry.kind === "go-service" ? `${entry.address}  (Go: go/cmd/${entry.service})` : entry.address}${startCost(entry.name)}`,
        ),
      ),
      ...COURIERS.map((c) =>
        row(
          c.id,
          `no port; quotes ${c.minutes} min after pickup for ${c.price} cents (NATS ftgo.delivery.courier.*)${startCost(c.id)}`,
        ),
      ),
      ...natsRows(row),
      ...(scale > 1
        ? [
            row(
              "instances",
              `${scale} of each service (SCALE=${scale}), each registered under its service's name and ` +
                "sharing its database (the outbox relay's lease lets one publish)",
            ),
          ]
        : []),
      ...(discovery === "server"
        ? [
            row(
              "router",
              `${routerAddr} (Traefik ${TRAEFIK_VERSION}: every gRPC call goes through it; API http://127.0.0.1:${routerApiPort}/api/http/services)`,
            ),
          ]
        : []),
      ...(needsConsul
        ? [
            row(
              "consul",
              `http://${consulAddr.replace(/^https?:\/\//, "")}/ui/  (the registry: every service and its gRPC check; ${consul ? "started here" : "already running"})`,
            ),
          ]
        : []),
      row(
        "discovery",
        discovery === "server"
          ? "server (registered by up.ts, routed by Traefik; DISCOVERY=client|server)"
          : `client (each service registers itself in ${registry === "consul" ? "Consul" : "NATS KV"}; its callers pick an instance; DISCOVERY=client|server)`,
      ),
      row(
        "start-up",
        `${(performance.now() / 1000).toFixed(1)} s from launch to this table (${withTsx ? "TSX=1: sources through tsx" : "services run from their bundles"})`,
      ),
      row(
        "traces",
        jaeger
          ? `${jaeger.queryUrl}/api/traces?service=order  (Jaeger ${JAEGER_VERSION}'s query API; npm run trace -- <orderId> prints one order's trace)`
          : ownTracesEndpoint
            ? `exported to ${ownTracesEndpoint} (OTEL_EXPORTER_OTLP_ENDPOINT)`
            : `off (${tracingWanted ? "no Jaeger here: `make jaeger` builds it" : "TRACING=off"}; docs/observability.md)`,
      ),
      row(
        "metrics",
        prometheus
          ? `${prometheus.url}/graph  (Prometheus, scraping every process's /metrics: order's at http://${dialHost}:${metricsPorts.get("order")}/metrics)`
          : metricsWanted
            ? `every process's /metrics (order's at http://${dialHost}:${metricsPorts.get("order")}/metrics); no Prometheus here`
            : "off (METRICS=off)",
      ),
      row("dashboard", dashboardLines().join(`\n${" ".repeat(width + 2)}`)),
      row("security", securityLine()),
      row("data dir", dataDir),
      row("database", databaseLine()),
      row("saga mode", `${env.SAGA_MODE || "choreography"} (SAGA_MODE=choreography|orchestration)`),
      row("restart", `${restart} (RESTART=no|always: whether a process that dies is started again)`),
      "",
      "Try:",
      ...(discovery === "server" ? tryThroughTheRouter(grpcurl ?? "grpcurl") : tryEachService(grpcurl ?? "grpcurl")),
      ...hint,
      "Break it and watch, from another terminal (docs/break-it-and-watch.md):",
      "  make status · make kill SVC=kitchen · make start SVC=kitchen",
      ...(scale > 1 ? ["  make kill SVC=kitchen-2: orders still go through, to kitchen"] : []),
      "Ctrl-C stops everything.",
    ].join("\n"),
  );
}

/** The broker's rows: the one server, or each node of the cluster and the NATS_URL every process has. */
function natsRows(row: (label: string, value: string) => string): string[] {
  if (!natsCluster) {
    return [
      row("nats", `${natsUrl}${nats ? ` (started here, store ${join(dataDir, "nats")})` : " (already running)"}`),
    ];
  }
  return [
    ...natsCluster.nodes.map((node) =>
      row(`nats ${node.name}`, `${node.url}  (cluster node, store ${join(dataDir, "nats-cluster", node.name)})`),
    ),
    row("nats", `NATS_URL=${natsCluster.url}; FTGO_STREAM_REPLICAS=3: every stream on all three nodes (NATS_NODES=3)`),
  ];
}

/** Where the services keep their data. */
function databaseLine(): string {
  if (postgres) {
    return `PostgreSQL ${postgres.url} (started here, data in ${postgres.dataDir}): one schema per service (DATABASE=postgres)`;
  }
  if (databaseUrl)
    return `PostgreSQL ${databaseUrl.replace(/:[^:@/]*@/, ":***@")} (DATABASE_URL): one schema per service`;
  return `SQLite, a file per service in ${dataDir} (DATABASE=postgres for PostgreSQL)`;
}

/** DATABASE=postgres: a PostgreSQL server of the mesh's own, its data kept in DATA_DIR/postgres across runs. */
function startPostgres(): Promise<PostgresServerHandle> {
  say(`starting PostgreSQL at 127.0.0.1:${postgresPort} (data in ${join(dataDir, "postgres")})`);
  return startPostgresServer({
    dataDir: join(dataDir, "postgres"),
    port: postgresPort,
    durable: true,
    detached: true, // a Ctrl-C reaches it through stopAll, after the services
    onLog: (line) => log("postgres", line),
  });
}

/** What the mode trusts, said plainly (docs/security.md). */
function securityLine(): string {
  return secure
    ? `secure (SECURE=1): mTLS on every gRPC call, checked against proto/access.json; NATS over TLS, a user per process; certificates in ${secure.pkiDir}; make cert NAME=<consumerId> for your own`
    : "learner's mode: plaintext, and every local caller is trusted, AdminService and fault injection included (as Consul's dev agent trusts every local caller); SECURE=1 make up for mTLS";
}

/** SECURE=1: the readiness probes' credentials, the admin's (any certificate of the CA may ask Health). */
function probeTls(): { ca: Buffer; cert: Buffer; key: Buffer } | undefined {
  if (!secure) return undefined;
  const files = secure.files("admin");
  return { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

/** The dashboard's URL, and how to sign in: on the page itself, or with an admin token from the development sign-in. */
function dashboardLines(): string[] {
  const gateway = `http://${listeners.find((entry) => entry.kind === "gateway")?.address}`;
  return [
    `${gateway}/dashboard  (admins only: sign in on the page; docs/dashboard.md)`,
    `an admin token: curl -s -X POST ${gateway}/api/v1/auth/token -H 'content-type: application/json' -d '{"role":"admin"}'`,
  ];
}

/**
 * "  · ready in 412 ms · 61 MB": how long the process took from spawn to ready, and its resident memory now
 * (it and its children), for the issue's start-up goals.
 */
function startCost(name: string): string {
  const entry = supervisor.status().find((p) => p.name === name);
  if (!entry?.pid || entry.readyMs === undefined) return "";
  const megabytes = residentBytes(entry.pid) / 2 ** 20;
  return `  · ready in ${Math.round(entry.readyMs)} ms · ${megabytes.toFixed(0)} MB`;
}

/** grpcurl at each service's own address, with the schema from its server reflection. */
function tryEachService(grpcurl: string): string[] {
  const addressOf = (name: string) => listeners.find((entry) => entry.name === name)?.address ?? `${dialHost}:?`;
  // SECURE=1: as the learner c-1001, whose certificate up made; -plaintext would be refused.
  const flags = secure ? secure.grpcurlFlags(TRY_LEARNER) : "-plaintext";
  return [
    `  ${grpcurl} ${flags} -d '{"restaurantId":"r-1"}' ${addressOf("kitchen")} ftgo.kitchen.v1.KitchenService/GetMenu`,
    `  ${grpcurl} ${flags} -d '${ORDER_JSON}' ${addressOf("order")} ftgo.order.v1.OrderService/CreateOrder`,
    ...GO_SERVICES.map(
      (service) =>
        `  ${grpcurl} ${flags} ${addressOf(service.name)} describe ftgo.${service.name}.v1.${capitalized(service.name)}Service`,
    ),
  ];
}

/**
 * grpcurl at the router, as every caller does. The router routes by the package in the call's path, so server
 * reflection (another package) does not go through it: grpcurl reads the schema from proto/ instead.
 */
function tryThroughTheRouter(grpcurl: string): string[] {
  const call = (proto: string, json: string, method: string) =>
    `  ${grpcurl} -plaintext -import-path proto -proto ${proto} -d '${json}' ${routerAddr} ${method}`;
  return [
    "  (through the router: it routes by package, not reflection, so grpcurl reads proto/; run from the repo's root)",
    call("ftgo/kitchen/v1/kitchen.proto", '{"restaurantId":"r-1"}', "ftgo.kitchen.v1.KitchenService/GetMenu"),
    call("ftgo/order/v1/order.proto", ORDER_JSON, "ftgo.order.v1.OrderService/CreateOrder"),
    ...GO_SERVICES.map((service) =>
      call(
        `ftgo/${service.name}/v1/${service.name}.proto`,
        '{"consumerId":"c-1001"}',
        `ftgo.${service.name}.v1.${capitalized(service.name)}Service/GetAccount`,
      ),
    ),
  ];
}

/** grpcurl from PATH, or where `go install` put it ($GOPATH/bin, not on PATH by default). */
function findGrpcurl(): string | undefined {
  const onPath = (env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, "grpcurl")));
  if (onPath) return "grpcurl";
  const installed = join(env.GOPATH?.split(delimiter)[0] || join(homedir(), "go"), "bin", "grpcurl");
  return existsSync(installed) ? installed : undefined;
}

/** The instances up runs of a process: SCALE of each service (`order`, `order-2`), one of anything else. */
function scaledInstances(name: string): Instance[] {
  return instancesOf(name, MESH_SERVICES.some((service) => service.name === name) ? scale : 1);
}

/** A setting of lib/instances.ts, or its fallback with the refusal noted in `refused` (said once the log is up). */
function setting<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    refused.push(err.message);
    return fallback;
  }
}

/** "loyalty" → "Loyalty". */
function capitalized(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** "order" → "ORDER", "courier-sim" → "COURIER_SIM". */
function envName(name: string): string {
  return name.toUpperCase().replaceAll("-", "_");
}

function portFromEnv(name: string, fallback: number): number {
  const value = env[name];
  if (!value) return fallback;
  const port = Number(value);
  if (Number.isInteger(port) && port > 0 && port < 65536) return port;
  shout(`${name}=${JSON.stringify(value)} is not a port (1-65535)`);
  process.exit(1);
}

function registryKind(value: string | undefined): "nats-kv" | "consul" {
  if (!value || value === "nats-kv") return "nats-kv";
  if (value === "consul") return "consul";
  shout(`REGISTRY=${JSON.stringify(value)}: the choices are nats-kv (the default) and consul`);
  process.exit(1);
}

function discoveryMode(value: string | undefined): "client" | "server" {
  if (!value || value === "client") return "client";
  if (value === "server") return "server";
  shout(
    `DISCOVERY=${JSON.stringify(value)}: the choices are client (the default: each service registers itself, its ` +
      "callers pick an instance) and server (up.ts registers them, every call goes through Traefik)",
  );
  process.exit(1);
}

/** An on/off switch of the environment, on unless it says off. */
function onOff(name: string, value: string | undefined): boolean {
  if (!value || value === "on") return true;
  if (value === "off") return false;
  shout(`${name}=${JSON.stringify(value)}: the choices are on (the default) and off`);
  process.exit(1);
}

function restartPolicy(value: string | undefined): RestartPolicy {
  if (!value || value === "no") return "no";
  if (value === "always") return "always";
  shout(`RESTART=${JSON.stringify(value)}: the choices are no (the default: a dead process stays down) and always`);
  process.exit(1);
}
