import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { goBinDir } from "./go-toolchain.js";

const run = promisify(execFile);

/**
 * Finds the real grpcurl that `make setup` / `scripts/setup.sh --with-test-tools` installs with `go install`:
 * $GRPCURL, then PATH, then Go's bin folder (which is often not on PATH). Throws with the fix when it is missing.
 */
export function findGrpcurl(): string {
  const candidates = [process.env.GRPCURL, ...pathCandidates(), goBin()].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error("grpcurl not found: run `make setup` (or `bash scripts/setup.sh --with-test-tools`) to install it");
  }
  return found;
}

function pathCandidates(): string[] {
  return (process.env.PATH ?? "").split(":").map((dir) => join(dir, "grpcurl"));
}

/** Where `go install` put it; undefined without Go. */
function goBin(): string | undefined {
  try {
    return join(goBinDir(), "grpcurl");
  } catch {
    return undefined;
  }
}

export interface GrpcurlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs grpcurl with `args` exactly as a user would type them after `grpcurl`. Never throws on a non-zero exit. */
export async function grpcurl(...args: string[]): Promise<GrpcurlResult> {
  try {
    const { stdout, stderr } = await run(findGrpcurl(), args, { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
