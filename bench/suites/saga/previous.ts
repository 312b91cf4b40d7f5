// The figure today's saga is compared with: the choreography's orders/s recorded in
// bench/results/latest-saga.json at an earlier commit (by default the last commit that changed that file;
// BENCH_COMPARE_WITH=<rev> picks another), read with `git show`, so the working tree's copy never counts.
import { execFileSync } from "node:child_process";

const RESULTS_FILE = "bench/results/latest-saga.json";
const REPO = new URL("../../../", import.meta.url).pathname;

/** A previous run's figure, and where it comes from. */
export interface PreviousFigure {
  readonly commit: string;
  readonly ordersPerSecond: number;
  /** When that run was made, as its JSON says. */
  readonly timestamp: string | undefined;
}

/** The previous figure, or why there is none (no such commit, no file there, no figure in it). */
export type PreviousLookup = { readonly figure: PreviousFigure } | { readonly missing: string };

/**
 * The choreography's median orders/s in a saved saga result: the contender named `saga` and its
 * `median.callsPerSecond`, the shape bench/lib/report.ts saves. Undefined for any other shape.
 */
export function sagaOrdersPerSecondOf(json: unknown): number | undefined {
  const contenders = (json as { contenders?: unknown } | null)?.contenders;
  if (!Array.isArray(contenders)) return undefined;
  const saga = contenders.find((c) => (c as { name?: unknown } | null)?.name === "saga") as
    | { median?: { callsPerSecond?: unknown } }
    | undefined;
  const figure = saga?.median?.callsPerSecond;
  return typeof figure === "number" && Number.isFinite(figure) && figure > 0 ? figure : undefined;
}

/** Looks the previous figure up in git: at `rev` when given, else at the last commit that changed the file. */
export function lookUpPreviousFigure(rev: string | undefined): PreviousLookup {
  const commit = rev
    ? git("rev-parse", "--verify", "--quiet", `${rev}^{commit}`)
    : git("log", "-1", "--format=%H", "--", RESULTS_FILE);
  if (!commit) {
    return { missing: rev ? `${rev} is not a commit here` : `no commit has changed ${RESULTS_FILE}` };
  }
  const text = fileAtCommit(commit, RESULTS_FILE);
  if (text === undefined) return { missing: `commit ${commit.slice(0, 10)} has no ${RESULTS_FILE}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { missing: `${RESULTS_FILE} at ${commit.slice(0, 10)} is not JSON` };
  }
  const ordersPerSecond = sagaOrdersPerSecondOf(json);
  if (ordersPerSecond === undefined) {
    return { missing: `${RESULTS_FILE} at ${commit.slice(0, 10)} has no choreography orders/s (contender "saga")` };
  }
  const timestamp = (json as { timestamp?: unknown }).timestamp;
  return { figure: { commit, ordersPerSecond, timestamp: typeof timestamp === "string" ? timestamp : undefined } };
}

/** The text of `path` (from the repository's root) at `commit`; undefined when there is no such file there. */
export function fileAtCommit(commit: string, path: string): string | undefined {
  return git("show", `${commit}:${path}`);
}

/** git's trimmed output, or undefined when it fails (no repository, unknown revision, missing file). */
function git(...args: string[]): string | undefined {
  try {
    const out = execFileSync("git", ["-C", REPO, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}
