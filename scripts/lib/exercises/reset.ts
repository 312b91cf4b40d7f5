// `reset [<n>]`: proto/, gen/ and what the exercises touch, back as HEAD has them. What it throws away is first
// written to .tmp/exercise-reset-<time>.patch (untracked files included), so a reset never loses work.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./shell.js";

/** Returns the patch file it saved, or undefined when there was nothing to put back. */
export async function resetPaths(root: string, paths: readonly string[]): Promise<string | undefined> {
  const git = (args: string[]) => runCommand("git", args, { cwd: root });
  const tracked = await git(["diff", "--binary", "HEAD", "--", ...paths]);
  const untracked = (await git(["ls-files", "--others", "--exclude-standard", "--", ...paths])).output
    .split("\n")
    .filter((file) => file !== "");
  const added = await Promise.all(untracked.map((file) => git(["diff", "--binary", "--no-index", "/dev/null", file])));
  const patch = tracked.output + added.map((diff) => diff.output).join("");
  if (patch.trim() === "") return undefined;
  const dir = join(root, ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `exercise-reset-${new Date().toISOString().replace(/[:.]/g, "-")}.patch`);
  writeFileSync(file, patch);
  await git(["checkout", "HEAD", "--", ...paths]);
  await git(["clean", "-fdq", "--", ...paths]);
  return file;
}
