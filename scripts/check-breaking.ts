// CI's breaking-change gate (.ci/run runs it): the protos as they are now, compared under buf's FILE rules
// (buf.yaml) with two things.
//
//   npm run contracts:breaking
//
// 1. The previous commit (`.git#ref=HEAD~1`): catches a break in the commit that writes it. Alone it can be
//    walked around, because CI checks the tip of what was pushed: delete a field in one commit, give its number
//    to another field in the next, push both, and the tip next to its parent only adds a field. A client built
//    before both now reads the new field's bytes as the old one.
// 2. The latest release (proto/releases/v*.binpb, see scripts/lib/releases.ts): what clients were actually
//    built from. However many commits a break is spread over, next to the release it is one break.
//
// Both run every time, both print what buf said, and the gate fails if either fails. The release images are
// guarded too, since deleting or rewriting one would walk around the second comparison: a commit may add
// images, never change or remove one its parent had. One exception, the way semantic versioning allows a
// break at all: a commit that cuts a new MAJOR release (`npm run contracts:release -- 2.0.0`) may break its
// parent, since that release announces the break; from then on the gate holds the protos to that release.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runBuf } from "./lib/buf.js";
import { formatVersion, latestRelease, RELEASES_DIR, type Release, releasesAmong } from "./lib/releases.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

type Verdict = "passed" | "FAILED" | "skipped" | "excused";

interface Comparison {
  /** What the protos were compared with, as the reader would type it. */
  readonly title: string;
  readonly verdict: Verdict;
  /** buf's findings, or why the comparison was skipped or excused. */
  readonly detail: string;
}

function git(...args: string[]): { ok: boolean; out: string } {
  const run = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return { ok: run.status === 0, out: `${run.stdout ?? ""}${run.stderr ?? ""}`.trim() };
}

function sincePreviousCommit(latest: Release | undefined): Comparison {
  const title = "buf breaking --against '.git#ref=HEAD~1' (the previous commit)";
  if (!git("cat-file", "commit", "HEAD").out.includes("\nparent ")) {
    return { title, verdict: "skipped", detail: "HEAD is the first commit, there is nothing to compare with" };
  }
  // CI may check out one commit only (a shallow clone): then the parent has to be fetched first.
  if (!git("rev-parse", "--quiet", "--verify", "HEAD~1^{commit}").ok) {
    console.log("shallow clone: fetching the previous commit");
    if (!git("fetch", "--quiet", "--deepen=1").ok) {
      return { title, verdict: "FAILED", detail: "cannot fetch HEAD~1 to compare with: clone with --depth=2 or more" };
    }
  }
  const buf = runBuf(root, ["breaking", "--against", ".git#ref=HEAD~1"]);
  if (buf.ok) return { title, verdict: "passed", detail: "" };
  const cut = newMajorCut(latest);
  if (!cut) return { title, verdict: "FAILED", detail: buf.output };
  return {
    title,
    verdict: "excused",
    detail: `${buf.output}\nThis commit cuts release ${cut}, a new MAJOR: the breaks above are what it announces.`,
  };
}

/** The latest release's version when it is a MAJOR above every release of the previous commit. */
function newMajorCut(latest: Release | undefined): string | undefined {
  if (!latest) return undefined;
  const before = git("ls-tree", "--name-only", "HEAD~1", "--", `${RELEASES_DIR}/`);
  const previous = before.ok ? releasesAmong(before.out.split("\n").filter(Boolean)).at(-1) : undefined;
  if (previous && latest.version.major <= previous.version.major) return undefined;
  return formatVersion(latest.version);
}

function releasesKept(): Comparison {
  const title = `${RELEASES_DIR}/ (every release of the previous commit, unchanged)`;
  if (!git("rev-parse", "--quiet", "--verify", "HEAD~1^{commit}").ok) {
    return { title, verdict: "skipped", detail: "no previous commit to compare with" };
  }
  const changes = git("diff", "--no-renames", "--name-status", "HEAD~1", "--", `${RELEASES_DIR}/`);
  if (!changes.ok) return { title, verdict: "FAILED", detail: changes.out };
  const touched = changes.out.split("\n").filter((line) => line !== "" && !line.startsWith("A"));
  if (touched.length === 0) return { title, verdict: "passed", detail: "" };
  return {
    title,
    verdict: "FAILED",
    detail: `${touched.join("\n")}\nA release image is what clients were built from: it is never changed or removed.`,
  };
}

function sinceLatestRelease(latest: Release | undefined): Comparison {
  if (!latest) {
    const title = `buf breaking --against ${RELEASES_DIR}/v<latest>.binpb`;
    return { title, verdict: "skipped", detail: `nothing released yet: ${RELEASES_DIR}/ holds no image` };
  }
  const title = `buf breaking --against ${latest.file} (release ${formatVersion(latest.version)}, the latest)`;
  const buf = runBuf(root, ["breaking", "--against", latest.file]);
  return { title, verdict: buf.ok ? "passed" : "FAILED", detail: buf.output };
}

function gate(): Comparison[] {
  const latest = latestRelease(root);
  return [sincePreviousCommit(latest), releasesKept(), sinceLatestRelease(latest)];
}

let comparisons: Comparison[];
try {
  comparisons = gate();
} catch (err) {
  // A misnamed release image: say which, and fail, rather than compare with the wrong release.
  console.error(`breaking-change gate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
for (const { title, verdict, detail } of comparisons) {
  console.log(`${title}: ${verdict}`);
  if (detail) console.log(detail.replace(/^/gm, "  "));
}
const failed = comparisons.filter((comparison) => comparison.verdict === "FAILED");
if (failed.length > 0) {
  console.error(
    `\nbreaking-change gate: ${failed.length} of ${comparisons.length} comparisons failed. A client built ` +
      "against the old contract would misread what changed, or no longer compile: add beside instead (a new " +
      "field under a new number, a new package), deprecate rather than delete; a break that is meant waits for " +
      "a new MAJOR release (docs/contracts.md).",
  );
  process.exitCode = 1;
} else {
  console.log("breaking-change gate: passed");
}
