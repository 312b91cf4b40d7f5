import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { residentBytes } from "@ftgo/harness/process-progress.js";
import { builtServices } from "@ftgo/harness/service-build.js";
import { type ServiceInstance, startService } from "@ftgo/harness/service-instance.js";
import { SERVICE_NAMES, type ServiceName } from "@ftgo/platform";
import { startNatsServer } from "@ftgo/platform/testing";
import { median } from "../lib/stats.js";
import type { Comparison, ContenderResult, Measurement, Suite } from "../lib/suite.js";

/*
 * Start-up, as `make up` and the system tests pay it: each TypeScript service process from spawn to
 * `Health/Check` SERVING, run from its esbuild bundle (what `make up` runs) and, in the same run, with tsx
 * transpiling its sources at start (what it ran before; tsx's own disk cache warm after the first round).
 * Each round starts every service once each way, one at a time on an otherwise idle mesh, against one
 * nats-server; the table's "p50 ms" is the median start → SERVING over the rounds, "p99 ms" the slowest,
 * "calls/s" the starts a second the median makes, and each row's label gives the process's resident memory (it and its children, tsx's
 * esbuild helper included) SETTLE_MS after SERVING, the median over the rounds.
 */

type Runner = "compiled" | "tsx";

/** How long a process is left to settle after SERVING before its memory is read. */
const SETTLE_MS = 1_000;
const RUNNERS: readonly Runner[] = ["tsx", "compiled"];

interface Start {
  readonly readyMs: number;
  readonly rssBytes: number;
}

export const startup: Suite = {
  name: "startup",
  async run(options) {
    await builtServices(); // built before the first timed start, so that no start pays for the build
    const dataRoot = mkdtempSync(join(tmpdir(), "ftgo-bench-startup-"));
    const nats = await startNatsServer({ storeDir: join(dataRoot, "nats") });
    const starts = new Map<string, Start[]>();
    try {
      for (let round = 1; round <= options.rounds; round++) {
        for (const name of SERVICE_NAMES) {
          for (const runner of RUNNERS) {
            const dataDir = mkdtempSync(join(dataRoot, `${name}-${runner}-`));
            const start = await startOnce(name, runner, dataDir, nats.url);
            starts.set(key(name, runner), [...(starts.get(key(name, runner)) ?? []), start]);
            options.progress(
              `startup round ${round}/${options.rounds} ${name} (${runner}): SERVING after ` +
                `${Math.round(start.readyMs)} ms, RSS ${megabytes(start.rssBytes)} MB`,
            );
          }
        }
      }
    } finally {
      await nats.stop();
      rmSync(dataRoot, { recursive: true, force: true });
    }
    const contenders: ContenderResult[] = SERVICE_NAMES.flatMap((name) =>
      RUNNERS.map((runner) => {
        const measured = starts.get(key(name, runner)) ?? [];
        const rounds = measured.map(asMeasurement);
        const rss = median(measured.map((s) => s.rssBytes));
        return {
          name: key(name, runner),
          label: `${name} (${runner === "tsx" ? "tsx, sources" : "node, bundle"}) · RSS ${megabytes(rss)} MB`,
          rounds,
          // p50 the median start, p99 the slowest (with a handful of rounds, that is what a p99 can be).
          median: {
            ...asMeasurement({ readyMs: median(measured.map((s) => s.readyMs)), rssBytes: rss }),
            p99Ms: Math.max(...measured.map((s) => s.readyMs)),
          },
          rssBytes: rss,
        };
      }),
    );
    const comparisons: Comparison[] = SERVICE_NAMES.map((name) => ({
      label: `${name}: bundle ÷ tsx (× p50 < 1 is a faster start)`,
      contender: key(name, "compiled"),
      over: key(name, "tsx"),
    }));
    return {
      suite: "startup",
      description:
        "one TypeScript service process, spawn → Health/Check SERVING (p50 ms; calls/s = starts a second), run " +
        `from its esbuild bundle vs with tsx, one at a time; RSS (it and its children) ${SETTLE_MS} ms after SERVING`,
      baseline: key(SERVICE_NAMES[0] as ServiceName, "tsx"),
      contenders,
      goals: [],
      comparisons,
    };
  },
};

/** One start of `name`, timed to SERVING; its memory read once it has settled; then stopped. */
async function startOnce(name: ServiceName, runner: Runner, dataDir: string, natsUrl: string): Promise<Start> {
  const program =
    runner === "tsx"
      ? { file: process.execPath, args: ["--import", "tsx", join("services", name, "src", "main.ts")] }
      : undefined;
  let service: ServiceInstance | undefined;
  try {
    service = await startService({ name, dataDir, natsUrl, program });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { readyMs: service.readyMs, rssBytes: service.pid ? residentBytes(service.pid) : Number.NaN };
  } finally {
    await service?.stop();
  }
}

/** A start as the report's row: its time to SERVING as p50 and p99, the starts a second as calls/s. */
function asMeasurement(start: Start): Measurement {
  return {
    calls: 1,
    seconds: start.readyMs / 1000,
    callsPerSecond: 1000 / start.readyMs,
    p50Ms: start.readyMs,
    p99Ms: start.readyMs,
  };
}

function key(name: string, runner: Runner): string {
  return `${name}-${runner}`;
}

function megabytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
