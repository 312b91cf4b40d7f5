// `make up` / `npm start`: the whole mesh on this machine, one process per service, their logs in one
// terminal. Uses the NATS server at NATS_URL, or starts one. Ctrl-C stops everything it started.
// Environment: NATS_URL, DATA_DIR, LOG_LEVEL, FTGO_HOST, and <NAME>_PORT per service (ORDER_PORT=6051).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { canConnect, type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { waitUntilCouriersAnswer } from "./lib/courier-probe.js";
import { MAKE_UP_COURIERS } from "./lib/couriers.js";
import { type HealthProbe, natsAnswers, waitUntilReady } from "./lib/health.js";
import { createLogMux, formatLogLine, painter } from "./lib/log-format.js";
import { describeExit, type ServiceProcess, startServiceProcess } from "./lib/service-process.js";

interface ServiceEntry {
  readonly name: string;
  /** Default port; `<NAME>_PORT` overrides it. */
  readonly port: number;
  /** How readiness is checked: "grpc" (grpc.health.v1.Health/Check answers SERVING, the default) or "tcp". */
  readonly probe?: HealthProbe;
}

/**
 * The mesh. Each runs as `node --import tsx services/<name>/src/main.ts` with PORT, DATA_DIR, NATS_URL,
 * LOG_LEVEL, FTGO_HOST, and every service's address as <NAME>_ADDRESS (services find each other through the
 * NATS-KV registry; the addresses are for tools).
 */
const SERVICES: readonly ServiceEntry[] = [
  { name: "order", port: 50051 },
  { name: "consumer", port: 50052 },
  { name: "kitchen", port: 50053 },
  { name: "accounting", port: 50054 },
  { name: "delivery", port: 50055 },
  // Last: it serves HTTP, not gRPC, and is only useful once the services behind it are up.
  { name: "gateway", port: 8080, probe: "tcp" },
];

/**
 * The couriers (lib/couriers.ts): `services/courier/src/main.ts` with COURIER_ID, COURIER_MINUTES and
 * COURIER_PRICE. No port: each answers Delivery's quote requests over NATS, so each is ready once it answers
 * one (lib/courier-probe.ts).
 */
const COURIERS = MAKE_UP_COURIERS.map((terms) => ({ name: terms.id, ...terms }));

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::"]);

const root = fileURLToPath(new URL("..", import.meta.url));
const env = process.env;
const color = Boolean(process.stdout.isTTY) && !env.NO_COLOR;
const paint = painter(color);
const log = createLogMux(["up", "nats", ...SERVICES.map((service) => service.name), ...COURIERS.map((c) => c.name)], {
  color,
});
const say = (text: string) => log("up", text);
const shout = (text: string) => log("up", paint("1;31", text));

const natsUrl = env.NATS_URL || "nats://127.0.0.1:4222";
const dataDir = resolve(env.DATA_DIR || join(root, "data"));
const logLevel = env.LOG_LEVEL || "info";
const bindHost = env.FTGO_HOST || "127.0.0.1";
const dialHost = bindHost === "0.0.0.0" || bindHost === "::" ? "127.0.0.1" : bindHost;
const services = SERVICES.map((entry) => {
  const port = portFromEnv(`${envName(entry.name)}_PORT`, entry.port);
  return { ...entry, port, address: `${dialHost}:${port}` };
});

const running: ServiceProcess[] = [];
let nats: NatsServerHandle | undefined;
/** Aborted when stopping begins, so that a start-up still in progress gives up. */
const startup = new AbortController();
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
  await ensurePortsFree();
  startup.signal.throwIfAborted();
  nats = await ensureNats();
  startup.signal.throwIfAborted();
  for (const service of services) running.push(startService(service));
  for (const courier of COURIERS) running.push(startCourier(courier));
  await waitUntilAllReady();
  printSummary();
} catch (err) {
  if (!stopping) {
    shout(err instanceof Error ? err.message : String(err));
    await stopAll(1);
  }
}

/** Stops the services (all at once), then NATS if we started it, then exits. Safe to call twice. */
function stopAll(exitCode: number, options: { alreadySignalled?: boolean } = {}): Promise<never> {
  stopping ??= (async () => {
    startup.abort();
    await Promise.all(
      running.map(async (service) => {
        const { forced } = await service.stop({ graceMs: STOP_GRACE_MS, ...options });
        if (forced) shout(`${service.name} did not stop within ${STOP_GRACE_MS / 1000} s: killed`);
      }),
    );
    if (nats) await nats.stop();
    say(exitCode === 0 ? "everything stopped" : "everything stopped after the failure above");
    process.exit(exitCode);
  })();
  return stopping;
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
  return startNatsServer({ host, port, storeDir, detached: true, onLog, onCrash });
}

/** A port already taken would make the health check below pass against someone else's server. */
async function ensurePortsFree(): Promise<void> {
  const taken = await Promise.all(services.map((service) => canConnect(dialHost, service.port, 500)));
  const busy = services.filter((_, i) => taken[i]).map((service) => `${service.name} (${service.address})`);
  if (busy.length > 0) {
    throw new Error(`already in use: ${busy.join(", ")}. Is another \`make up\` running? (ss -ltnp shows who has it)`);
  }
}

function startService(service: (typeof services)[number]): ServiceProcess {
  return startProcess(service.name, service.name, { PORT: String(service.port) });
}

function startCourier(courier: (typeof COURIERS)[number]): ServiceProcess {
  return startProcess(courier.name, "courier", {
    COURIER_ID: courier.name,
    COURIER_MINUTES: String(courier.minutes),
    COURIER_PRICE: String(courier.price),
  });
}

/** Runs `services/<dir>/src/main.ts` as `name`, its log lines in this terminal; any exit nobody asked for stops everything. */
function startProcess(name: string, dir: string, own: Record<string, string>): ServiceProcess {
  const addresses = Object.fromEntries(services.map((s) => [`${envName(s.name)}_ADDRESS`, s.address]));
  const child = startServiceProcess({
    name,
    command: process.execPath,
    args: ["--import", "tsx", join("services", dir, "src", "main.ts")],
    cwd: root,
    env: {
      ...env,
      ...addresses,
      ...own,
      DATA_DIR: dataDir,
      NATS_URL: natsUrl,
      LOG_LEVEL: logLevel,
      FTGO_HOST: bindHost,
    },
    onLine: (line) => log(name, formatLogLine(line, { color })),
  });
  child.exited.then((status) => {
    if (child.stopping) return;
    shout(`${name} ${describeExit(status)}, unexpectedly: stopping everything`);
    void stopAll(1);
  });
  return child;
}

async function waitUntilAllReady(): Promise<void> {
  say(`waiting for ${services.length} services to report SERVING and ${COURIERS.length} couriers to answer a quote`);
  const [couriers, ...results] = await Promise.allSettled([
    waitUntilCouriersAnswer(
      natsUrl,
      COURIERS.map((courier) => courier.name),
      { timeoutMs: READY_TIMEOUT_MS, signal: startup.signal },
    ),
    ...services.map((service) =>
      waitUntilReady(service.address, { probe: service.probe, timeoutMs: READY_TIMEOUT_MS, signal: startup.signal }),
    ),
  ]);
  startup.signal.throwIfAborted();
  const failed = services.flatMap((service, i) => {
    const result = results[i];
    return result?.status === "rejected"
      ? [`${service.name} did not come up: ${(result.reason as Error).message}`]
      : [];
  });
  if (couriers?.status === "rejected") failed.push(`couriers did not come up: ${(couriers.reason as Error).message}`);
  if (failed.length > 0) throw new Error(failed.join("\n"));
}

function printSummary(): void {
  const width = Math.max(...[...services, ...COURIERS].map((entry) => entry.name.length), "saga mode".length) + 2;
  const row = (label: string, value: string) => `  ${label.padEnd(width)}${value}`;
  const addressOf = (name: string) => services.find((service) => service.name === name)?.address ?? `${dialHost}:?`;
  const grpcurl = findGrpcurl();
  const hint = grpcurl ? [] : ["  (no grpcurl here: `scripts/setup.sh --with-test-tools` installs it)"];
  say(
    [
      paint("1;32", "ftgo-mesh is up"),
      ...services.map((service) => row(service.name, service.address)),
      ...COURIERS.map((c) =>
        row(
          c.name,
          `no port; quotes ${c.minutes} min after pickup for ${c.price} cents (NATS ftgo.delivery.courier.*)`,
        ),
      ),
      row("nats", `${natsUrl}${nats ? ` (started here, store ${join(dataDir, "nats")})` : " (already running)"}`),
      row("data dir", dataDir),
      row("saga mode", `${env.SAGA_MODE || "choreography"} (SAGA_MODE=choreography|orchestration)`),
      "",
      "Try:",
      `  ${grpcurl ?? "grpcurl"} -plaintext -d '{"restaurantId":"r-1"}' ${addressOf("kitchen")} ftgo.kitchen.v1.KitchenService/GetMenu`,
      `  ${grpcurl ?? "grpcurl"} -plaintext -d '{"consumerId":"c-1001","restaurantId":"r-1","lineItems":[{"menuItemId":"m-1","quantity":2}]}' ${addressOf("order")} ftgo.order.v1.OrderService/CreateOrder`,
      ...hint,
      "Ctrl-C stops everything.",
    ].join("\n"),
  );
}

/** grpcurl from PATH, or where `go install` put it ($GOPATH/bin, not on PATH by default). */
function findGrpcurl(): string | undefined {
  const onPath = (env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, "grpcurl")));
  if (onPath) return "grpcurl";
  const installed = join(env.GOPATH?.split(delimiter)[0] || join(homedir(), "go"), "bin", "grpcurl");
  return existsSync(installed) ? installed : undefined;
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
