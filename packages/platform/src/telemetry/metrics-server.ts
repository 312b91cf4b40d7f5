// The /metrics endpoint of a process: a small HTTP server of its own (node:http, nothing else on it) that
// Prometheus scrapes. Its port is METRICS_PORT; `make up` gives every process one from the roster's table
// (docs/observability.md). Without METRICS_PORT nothing listens, and the metrics are only counted.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics } from "prom-client";
import type { Env } from "../env.js";
import type { Logger } from "../log.js";
import { metricsRegistry } from "./metrics.js";

export interface MetricsServer {
  /** `http://host:port/metrics`; undefined when METRICS_PORT is not set. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

let runtimeMetrics = false;

/** Serves `GET /metrics` at FTGO_HOST (default 127.0.0.1) and METRICS_PORT (0: a free one), if METRICS_PORT is set. */
export async function serveMetrics(env: Env, log: Logger): Promise<MetricsServer> {
  const raw = env.METRICS_PORT?.trim();
  if (!raw) return { url: undefined, close: async () => {} };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`METRICS_PORT=${JSON.stringify(raw)} is not a port (0-65535)`);
  }
  const host = env.FTGO_HOST?.trim() || "127.0.0.1";
  if (!runtimeMetrics) {
    runtimeMetrics = true;
    collectDefaultMetrics({ register: metricsRegistry }); // Node's own: CPU, memory, event loop lag, GC
  }
  const server: Server = createServer((request, response) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    metricsRegistry.metrics().then(
      (body) => response.writeHead(200, { "content-type": metricsRegistry.contentType }).end(body),
      (err: unknown) => {
        log.error({ err }, "collecting metrics failed");
        response.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${bound}/metrics`;
  log.info({ url }, "metrics served");
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
