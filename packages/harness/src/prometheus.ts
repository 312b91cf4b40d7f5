// A real Prometheus (Debian's `prometheus` package, 2.42): the metrics back-end of `make up` and of the metrics
// tests. It scrapes every process's /metrics, found through file-based service discovery: the targets are a JSON
// file that whoever starts processes rewrites (`setTargets`), and Prometheus picks up the change by itself, so a
// process started later appears without a restart. The recording rules of prometheus/rules.yml are loaded. Like
// Jaeger it is a tracked child (child-processes.ts), and a start that fails kills it before it rethrows.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./service-instance.js";
import { startToolProcess } from "./tool-process.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
/** The recording rules that answer the docs' questions (docs/observability.md#metrics). */
export const PROMETHEUS_RULES = join(root, "prometheus", "rules.yml");
/** Prometheus's standard port: where `make up` puts it. */
export const PROMETHEUS_STANDARD_PORT = 9090;

/** One process to scrape: its /metrics at `address` (`host:port`), labelled with its name. */
export interface ScrapeTarget {
  readonly service: string;
  readonly address: string;
}

export interface PrometheusOptions {
  /** Its web UI and HTTP API; a free one when not given. */
  readonly port?: number;
  /** Where its configuration, targets and time-series store go (kept); a temp dir, removed after stop(), if not given. */
  readonly dir?: string;
  /** How often it scrapes every target. Default 5 s; tests use 1 s. */
  readonly scrapeIntervalMs?: number;
  readonly targets?: readonly ScrapeTarget[];
  /** Its own process group, so that a terminal's Ctrl-C reaches it only through stop(). Default false. */
  readonly detached?: boolean;
  /** Every line it logs. The last ones are quoted if start-up fails. */
  readonly onLog?: (line: string) => void;
  /** Called when it exits other than through stop(). */
  readonly onCrash?: (how: string) => void;
  /** How long it may take to be ready. Default 60 s (a loaded two-core machine). */
  readonly startTimeoutMs?: number;
}

export interface Prometheus {
  /** `http://127.0.0.1:<port>`: the UI (`/graph`) and the HTTP API (`/api/v1/query`). */
  readonly url: string;
  readonly pid: number;
  /** Replaces the processes it scrapes; it reads the file again by itself within a few seconds. */
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
  /** SIGTERM (SIGKILL after the grace period), waits for the exit, removes its temp dir. */
  stop(graceMs?: number): Promise<void>;
}

/** Thrown when Prometheus is not installed: the message says how. Tests fail on it, never skip. */
export class PrometheusNotFoundError extends Error {
  override readonly name = "PrometheusNotFoundError";
  constructor() {
    super("Prometheus is not installed: `sudo apt-get install -y prometheus` (Debian/Ubuntu), or scripts/setup.sh");
  }
}

/** The binary: PROMETHEUS_BIN, else `prometheus` on PATH; undefined if none. */
export function prometheusBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PROMETHEUS_BIN) return existsSync(env.PROMETHEUS_BIN) ? env.PROMETHEUS_BIN : undefined;
  return (env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, "prometheus"))
    .find((path) => existsSync(path));
}

/** True when a Prometheus at `url` says it is ready. */
export async function prometheusAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

function configYaml(dir: string, scrapeIntervalMs: number): string {
  const every = `${Math.max(1, Math.round(scrapeIntervalMs / 1000))}s`;
  return `global:
  scrape_interval: ${every}
  evaluation_interval: ${every}
rule_files:
  - ${JSON.stringify(PROMETHEUS_RULES)}
scrape_configs:
  - job_name: ftgo
    file_sd_configs:
      - files: [${JSON.stringify(join(dir, "targets", "*.json"))}]
        refresh_interval: ${every}
`;
}

/** Starts Prometheus with the configuration above; resolves once it is ready. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<Prometheus> {
  const bin = prometheusBinary();
  if (!bin) throw new PrometheusNotFoundError();
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "ftgo-prometheus-")));
  await mkdir(join(dir, "targets"), { recursive: true });
  const config = join(dir, "prometheus.yml");
  await writeFile(config, configYaml(dir, options.scrapeIntervalMs ?? 5_000));
  const setTargets = async (targets: readonly ScrapeTarget[]) => {
    const groups = targets.map(({ service, address }) => ({ targets: [address], labels: { service } }));
    const file = join(dir, "targets", "ftgo.json");
    // Written aside and renamed: Prometheus never reads half a file.
    await writeFile(`${file}.tmp`, `${JSON.stringify(groups, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  };
  await setTargets(options.targets ?? []);
  const url = `http://127.0.0.1:${port}`;
  const prometheus = await startToolProcess({
    label: "prometheus",
    bin,
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.console.templates=/usr/share/prometheus/consoles",
      "--web.console.libraries=/usr/share/prometheus/console_libraries",
      "--log.level=warn",
    ],
    detached: options.detached,
    onLog: options.onLog,
    onCrash: options.onCrash,
    ready: () => prometheusAnswers(url),
    readyWhat: `at ${url} to answer /-/ready`,
    startTimeoutMs: options.startTimeoutMs,
    afterStop: async () => {
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  });
  return { url, pid: prometheus.pid, setTargets, stop: prometheus.stop };
}

/** One instant query through Prometheus's HTTP API: each series's labels and value. */
export async function queryPrometheus(
  url: string,
  query: string,
): Promise<{ readonly metric: Record<string, string>; readonly value: number }[]> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== "success") throw new Error(`Prometheus refused ${query}: ${body.error ?? response.status}`);
  return (body.data?.result ?? []).map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
}
