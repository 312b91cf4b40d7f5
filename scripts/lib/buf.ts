// buf, as the contract scripts run it: the pinned binary of the repository's node_modules (the one CI and
// `npm run generate` use, whatever else is on PATH), from the repository root, its output kept for the caller
// to print. buf writes what it found to stdout and why it could not look to stderr; a reader wants both.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface BufResult {
  readonly ok: boolean;
  /** stdout then stderr, trimmed: buf's findings (`file:line:col:message`) or its error. */
  readonly output: string;
}

/** Runs `buf <args>` in `root` and waits for it. */
export function runBuf(root: string, args: readonly string[]): BufResult {
  const run = spawnSync(join(root, "node_modules", ".bin", "buf"), args, { cwd: root, encoding: "utf8" });
  if (run.error) return { ok: false, output: `cannot run buf: ${run.error.message}` };
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}
