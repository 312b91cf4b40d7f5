import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLoyaltyBeside } from "@ftgo/harness/loyalty-process.js";
import { type ProcessMesh, startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { freePort, type ServiceInstance } from "@ftgo/harness/service-instance.js";
import { describeExit, type ServiceProcess, startServiceProcess } from "@ftgo/harness/service-process.js";
import { DEFAULT_CALL_POLICY } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { createHttpClient, type HttpClient } from "./http.js";

/*
 * What the gateway suite calls: the mesh as `make up` runs it (five service processes, the Go Loyalty
 * service beside them, a nats-server of its own, a temp data dir) and the gateway in a process of its own
 * in front of it, started the way `make up` starts it, with the settings below so that it measures the
 * edge and not its limits. Loyalty answers the points leg of an order's details: without it, that leg
 * would fail fast with UNAVAILABLE and the composed figure would time an error path.
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 30_000;
/** Gateway output lines passed on to stderr; the rest are counted, so that a noisy run cannot flood it. */
const ECHOED_LINES = 20;
/** Only these reach the gateway, as for the services: the runner's own variables (NODE_ENV, …) must not. */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"] as const;

/** The backends whose calls the measured routes make. */
const MEASURED_TARGETS = ["KITCHEN", "ORDER", "ACCOUNTING", "DELIVERY", "LOYALTY"] as const;

/**
 * The gateway's settings that differ from its defaults, and why; saved with the results.
 * - No rate limit to speak of: the default buckets (20/s, burst 40 per caller; 200/s, burst 400 per address, and
 *   every call comes from 127.0.0.1) would answer most calls with 429.
 * - No caching (TTL 0): a cached menu or order would measure a Map lookup, not the route's calls.
 * - Bulkheads at least `concurrency` wide: the default 32 + 16 would answer the load's extra calls
 *   with RESOURCE_EXHAUSTED (503), and a bulkhead that queues measures its limit, not its cost.
 */
export function gatewaySettings(concurrency: number): Record<string, string> {
  const limit = String(Math.max(DEFAULT_CALL_POLICY.bulkhead.limit, concurrency));
  return {
    RATE_LIMIT_RPS: "1000000000",
    RATE_LIMIT_BURST: "1000000000",
    EDGE_RATE_LIMIT_RPS: "1000000000",
    EDGE_RATE_LIMIT_BURST: "1000000000",
    MENU_CACHE_TTL_MS: "0",
    ORDER_CACHE_TTL_MS: "0",
    DEV_SIGN_IN: "1", // the load signs its callers in through the gateway
    ...Object.fromEntries(MEASURED_TARGETS.map((target) => [`${target}_BULKHEAD_LIMIT`, limit])),
  };
}

export interface GatewayStack {
  readonly mesh: ProcessMesh;
  /** The Go Loyalty service, on the mesh's nats-server and data dir. */
  readonly loyalty: ServiceInstance;
  /** The gateway process's id, whose CPU time the suite reads (cpu.ts). */
  readonly gatewayPid: number;
  /** A keep-alive HTTP/1.1 client of the gateway, with up to `concurrency` connections. */
  readonly http: HttpClient;
  /** Stops the gateway, then the mesh; safe to call twice. */
  stop(): Promise<void>;
}

/** Gateway processes still running: killed with this process, whatever ends it (Ctrl-C included). */
const live = new Set<number>();
process.on("exit", () => {
  for (const pid of live) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export interface GatewayStackOptions {
  readonly concurrency: number;
  readonly progress: (line: string) => void;
  /** Node options for the gateway process only, such as `--cpu-prof` when looking for where its time goes. */
  readonly nodeArgs?: readonly string[];
}

export async function startGatewayStack({
  concurrency,
  progress,
  nodeArgs = [],
}: GatewayStackOptions): Promise<GatewayStack> {
  const startedAt = Date.now();
  const mesh = await startProcessMesh();
  let loyalty: ServiceInstance | undefined;
  let gateway: ServiceProcess | undefined;
  let http: HttpClient | undefined;
  const output = { lines: 0, whileStopping: [] as string[], stopping: false };
  const stop = async () => {
    http?.close();
    try {
      if (gateway) {
        output.stopping = true;
        await gateway.stop({ graceMs: 5_000 });
        if (gateway.pid !== undefined) live.delete(gateway.pid);
        const [first] = output.whileStopping;
        if (first) progress(`gateway: ${output.whileStopping.length} log line(s) while stopping, the first: ${first}`);
        output.whileStopping = [];
      }
    } finally {
      await loyalty?.stop();
      await mesh.stop();
    }
  };
  try {
    loyalty = await startLoyaltyBeside(mesh, { LOG_LEVEL: "warn" });
    const port = await freePort();
    const tail: string[] = [];
    gateway = startServiceProcess({
      name: "gateway",
      command: process.execPath,
      args: [...nodeArgs, "--import", "tsx", join("services", "gateway", "src", "main.ts")],
      cwd: ROOT,
      env: {
        ...Object.fromEntries(INHERITED_ENV.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : []))),
        FTGO_HOST: HOST,
        PORT: String(port),
        NATS_URL: mesh.nats.url,
        DATA_DIR: mesh.dataDir,
        LOG_LEVEL: "warn",
        ...gatewaySettings(concurrency),
      },
      onLine: (line) => {
        if (tail.push(line) > 50) tail.shift();
        if (output.stopping) output.whileStopping.push(summarize(line));
        else if (++output.lines <= ECHOED_LINES) progress(`[gateway] ${summarize(line)}`);
        else if (output.lines === ECHOED_LINES + 1) progress("[gateway] (further lines not shown)");
      },
    });
    const { pid } = gateway;
    if (pid === undefined) throw new Error("the gateway process did not start");
    live.add(pid);
    const exited = gateway.exited.then((status) => {
      throw new Error(`the gateway ${describeExit(status)}:\n${tail.join("\n")}`);
    });
    exited.catch(() => {}); // raced below; after that, a crash shows up as failing calls
    http = createHttpClient(`http://${HOST}:${port}`, concurrency);
    const client = http;
    // Ready when every service is discoverable and SERVING, as a load balancer would wait.
    await Promise.race([
      waitFor(async () => (await client.request("GET", "/readyz")).status === 200, {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 100,
        message: "the gateway to answer 200 on /readyz",
      }),
      exited,
    ]);
    progress(`gateway: mesh + gateway (pid ${pid}) ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    return { mesh, loyalty, gatewayPid: pid, http, stop };
  } catch (err) {
    await stop().catch(() => {}); // the start-up error says more than a teardown one
    throw err;
  }
}

/** A pino line as "warn: <msg>"; anything else as it is. */
function summarize(line: string): string {
  try {
    const { level, msg } = JSON.parse(line) as { level?: unknown; msg?: unknown };
    if (typeof msg === "string") return `${String(level)}: ${msg}`;
  } catch {
    // not JSON: a stack trace, say
  }
  return line;
}
