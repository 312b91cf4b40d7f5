// A real Jaeger (v1.75.0, a Jaeger v2 binary built from source by `make jaeger` into .tools/bin/jaeger): the
// traces back-end of `make up` and of the tracing tests. Started with a configuration of our own rather than its
// built-in all-in-one one, so that every port is ours to choose (free ones in tests; the standard 4318 and 16686
// under `make up`) and nothing else listens: OTLP over HTTP in, the in-memory store, the query API out. Like
// Traefik it is a tracked child (child-processes.ts), and a start that fails kills it before it rethrows.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./service-instance.js";
import { startToolProcess } from "./tool-process.js";

export const JAEGER_VERSION = "v1.75.0";
/** Jaeger's standard ports: where `make up` puts it, so that its URLs are the ones every guide shows. */
export const JAEGER_STANDARD_PORTS = { otlpHttp: 4318, query: 16686 } as const;
const root = fileURLToPath(new URL("../../..", import.meta.url));

export interface JaegerOptions {
  /** OTLP/HTTP in and the query API (HTTP) out; free ones when not given. */
  readonly ports?: { readonly otlpHttp?: number; readonly query?: number };
  /** Its own process group, so that a terminal's Ctrl-C reaches it only through stop(). Default false. */
  readonly detached?: boolean;
  /** Every line it logs. The last ones are quoted if start-up fails. */
  readonly onLog?: (line: string) => void;
  /** Called when it exits other than through stop(). */
  readonly onCrash?: (how: string) => void;
  /** How long its query API may take to answer. Default 60 s (a loaded two-core machine). */
  readonly startTimeoutMs?: number;
  /** Where its configuration file goes (kept); a temp dir, removed after stop(), when not given. */
  readonly configDir?: string;
}

export interface Jaeger {
  /** `http://127.0.0.1:<port>`: OTEL_EXPORTER_OTLP_ENDPOINT for the processes that send it spans. */
  readonly otlpUrl: string;
  /** `http://127.0.0.1:<port>`: the query API (`/api/services`, `/api/traces`). */
  readonly queryUrl: string;
  readonly pid: number;
  /** SIGTERM (SIGKILL after the grace period), waits for the exit, removes its config dir. */
  stop(graceMs?: number): Promise<void>;
}

/** Thrown when there is no Jaeger binary: the message says to run `make jaeger`. Tests fail on it, never skip. */
export class JaegerNotFoundError extends Error {
  override readonly name = "JaegerNotFoundError";
  constructor(where: string) {
    super(`no Jaeger at ${where}: run \`make jaeger\` (builds Jaeger ${JAEGER_VERSION} from source)`);
  }
}

/** The binary: JAEGER_BIN, else .tools/bin/jaeger (make jaeger links it there), else make jaeger's cache; undefined if none. */
export function jaegerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.JAEGER_BIN) return existsSync(env.JAEGER_BIN) ? env.JAEGER_BIN : undefined;
  const linked = join(root, ".tools", "bin", "jaeger");
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const cached = join(cache, "ftgo-mesh", `jaeger-${JAEGER_VERSION}`, "jaeger");
  return [linked, cached].find((path) => existsSync(path));
}

/** True when a Jaeger query API at `queryUrl` answers. */
export async function jaegerAnswers(queryUrl: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The collector configuration: OTLP/HTTP → batch → the in-memory store ← the query API. Nothing else listens. */
function configYaml(ports: { otlpHttp: number; query: number; queryGrpc: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.query}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

/** Starts Jaeger with the configuration above; resolves once its query API answers. */
export async function startJaeger(options: JaegerOptions = {}): Promise<Jaeger> {
  const bin = jaegerBinary();
  if (!bin) throw new JaegerNotFoundError(join(root, ".tools", "bin", "jaeger"));
  const ports = {
    otlpHttp: options.ports?.otlpHttp ?? (await freePort()),
    query: options.ports?.query ?? (await freePort()),
    queryGrpc: await freePort(),
  };
  const configDir = options.configDir ?? (await mkdtemp(join(tmpdir(), "ftgo-jaeger-")));
  await mkdir(configDir, { recursive: true });
  const config = join(configDir, "jaeger.yaml");
  await writeFile(config, configYaml(ports));
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  const jaeger = await startToolProcess({
    label: "jaeger",
    bin,
    args: ["--config", config],
    detached: options.detached,
    onLog: options.onLog,
    onCrash: options.onCrash,
    ready: () => jaegerAnswers(queryUrl),
    readyWhat: `at ${queryUrl} to answer /api/services`,
    startTimeoutMs: options.startTimeoutMs,
    afterStop: async () => {
      if (!options.configDir) await rm(configDir, { recursive: true, force: true });
    },
  });
  return { otlpUrl: `http://127.0.0.1:${ports.otlpHttp}`, queryUrl, pid: jaeger.pid, stop: jaeger.stop };
}
