import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findGo, goBinDir } from "@ftgo/harness/go-toolchain.js";
import type { Measurement } from "../../lib/suite.js";

/*
 * ghz (github.com/bojand/ghz), the Go gRPC load generator: the Go client of the polyglot suite. Pinned
 * and installed by `scripts/setup.sh --with-bench-tools` (`go install`), never fetched from elsewhere;
 * it reads the request's types from the same .proto files the services are generated from.
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** The version scripts/setup.sh pins; `go install` builds report it only in their module info. */
export const GHZ_VERSION = "v0.93.0";
const run = promisify(execFile);

/** The ghz binary, installed by `scripts/setup.sh --with-bench-tools` if missing or of another version. */
export function ensureGhz(progress: (line: string) => void): string {
  const ghz = join(goBinDir(), "ghz");
  if (hasPinnedVersion(ghz)) return ghz;
  progress(`polyglot: installing ghz ${GHZ_VERSION} (scripts/setup.sh --with-bench-tools, about a minute cold)`);
  const setup = spawnSync("bash", ["scripts/setup.sh", "--with-bench-tools"], { cwd: ROOT, encoding: "utf8" });
  if (setup.status !== 0 || !hasPinnedVersion(ghz)) {
    throw new Error(`could not install ghz ${GHZ_VERSION}: ${setup.stderr || setup.stdout || setup.error?.message}`);
  }
  return ghz;
}

/** `go version -m` prints the module version a `go install` build was made from (`ghz --version` says "dev"). */
function hasPinnedVersion(ghz: string): boolean {
  if (!existsSync(ghz)) return false;
  const info = spawnSync(findGo(), ["version", "-m", ghz], { encoding: "utf8" });
  return new RegExp(`^\\s*mod\\s+github\\.com/bojand/ghz\\s+${GHZ_VERSION.replaceAll(".", "\\.")}\\s`, "m").test(
    info.stdout ?? "",
  );
}

export interface GhzRun {
  readonly address: string;
  readonly concurrency: number;
  readonly seconds: number;
  /** Cores ghz may use (GOMAXPROCS): the suite gives the client one core and the server one. */
  readonly cpus: number;
}

/** One ghz window's figures, plus the calls that failed. */
export interface GhzMeasurement extends Measurement {
  /** Calls cut off when ghz closed its connection at the end of the window: in flight, not failed. */
  readonly cutOff: number;
}

/** The fields of ghz's `--format json` report that the suite reads (durations in nanoseconds). */
interface GhzReport {
  readonly total: number;
  readonly statusCodeDistribution?: Record<string, number>;
  readonly errorDistribution?: Record<string, number> | null;
  readonly latencyDistribution?: readonly { percentage: number; latency: number }[] | null;
}

/** How ghz reports the calls in flight when its window closes: it closes the connection under them. */
const CUT_OFF = /the client connection is closing|transport is closing/;

/**
 * Drives KitchenService.GetMenu for r-1 at `address` with ghz: `concurrency` calls in flight on one
 * connection for `seconds`. Rejects with ghz's own message when ghz fails, or when any call failed
 * other than those cut off by the end of the window: figures of failing calls measure nothing.
 */
export async function runGhz(ghz: string, options: GhzRun): Promise<GhzMeasurement> {
  const args = [
    "--insecure",
    "--proto",
    "proto/ftgo/kitchen/v1/kitchen.proto",
    "--import-paths",
    "proto",
    "--call",
    "ftgo.kitchen.v1.KitchenService/GetMenu",
    "--data",
    '{"restaurant_id":"r-1"}',
    "--concurrency",
    String(options.concurrency),
    "--connections",
    "1",
    "--cpus",
    String(options.cpus),
    "--duration",
    `${Math.round(options.seconds * 1000)}ms`,
    "--format",
    "json",
    options.address,
  ];
  let stdout: string;
  try {
    // The JSON lists every call, so allow far more than the default buffer.
    ({ stdout } = await run(ghz, args, { cwd: ROOT, maxBuffer: 1024 * 1024 * 1024, encoding: "utf8" }));
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`ghz failed against ${options.address}: ${stderr?.trim() || message}`);
  }
  return measurementOf(JSON.parse(stdout) as GhzReport, options.address);
}

/** ghz's report as the suite's figures: successful calls per second, p50 and p99 in ms. */
export function measurementOf(report: GhzReport, address: string): GhzMeasurement {
  const errors = Object.entries(report.errorDistribution ?? {});
  const failed = errors.filter(([message]) => !CUT_OFF.test(message));
  if (failed.length > 0) {
    const list = failed.map(([message, count]) => `${count} × ${message}`).join("; ");
    throw new Error(`ghz calls to ${address} failed: ${list}`);
  }
  const ok = report.statusCodeDistribution?.OK ?? 0;
  const seconds = report.total / 1e9;
  const at = (percentage: number) => {
    const found = report.latencyDistribution?.find((d) => d.percentage === percentage);
    if (!found) throw new Error(`ghz report for ${address} has no p${percentage} latency`);
    return found.latency / 1e6;
  };
  if (ok === 0) throw new Error(`ghz made no successful call to ${address}`);
  return {
    calls: ok,
    seconds,
    callsPerSecond: ok / seconds,
    p50Ms: at(50),
    p99Ms: at(99),
    cutOff: errors.reduce((sum, [, count]) => sum + count, 0),
  };
}
