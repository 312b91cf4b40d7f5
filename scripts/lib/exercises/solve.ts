// `solve <n>`: the reference solution (or the known-wrong attempt) applied in a temporary git worktree at
// HEAD, regenerated there, and judged by that worktree's own `check <n>`, so the learner's tree is never
// touched. The worktree shares the main tree's node_modules entry by entry, except @ftgo: its packages point
// at the worktree's own gen/, packages/ and services/, so the solved code is what runs, and every other
// package (one @bufbuild/protobuf) is the same file on disk for both.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./shell.js";

export interface SolveOptions {
  readonly root: string;
  readonly number: number;
  /** Folder name under exercises/, e.g. `02-remove-a-field`. */
  readonly folder: string;
  readonly wrong: boolean;
  readonly print: (text: string) => void;
}

/** Returns the exit code of the worktree's check (1 when the patch does not apply or generation fails). */
export async function solveInWorktree({ root, number, folder, wrong, print }: SolveOptions): Promise<number> {
  const tree = mkdtempSync(join(tmpdir(), `ftgo-exercise-${number}-`));
  const git = (args: string[], cwd = root) => runCommand("git", args, { cwd });
  try {
    const added = await git(["worktree", "add", "--detach", tree, "HEAD"]);
    if (added.code !== 0) throw new Error(`git worktree add failed: ${added.output.trim()}`);
    linkNodeModules(root, tree);
    const patch = join(tree, "exercises", folder, wrong ? "wrong.patch" : "solution.patch");
    const applied = await git(["apply", patch], tree);
    if (applied.code !== 0) {
      print(`${patch} does not apply to HEAD:\n${applied.output}`);
      return 1;
    }
    print(`Applied exercises/${folder}/${wrong ? "wrong" : "solution"}.patch in a worktree at HEAD.`);
    const generated = await runCommand("npm", ["run", "-s", "generate"], { cwd: tree });
    if (generated.code !== 0) {
      print(`npm run generate failed:\n${generated.output}`);
      return 1;
    }
    const check = await runCommand(
      join(tree, "node_modules", ".bin", "tsx"),
      ["scripts/exercise.ts", "check", `${number}`],
      {
        cwd: tree,
        timeoutMs: 180_000,
      },
    );
    print(check.output.trimEnd());
    return check.code;
  } finally {
    await git(["worktree", "remove", "--force", tree]);
    rmSync(tree, { recursive: true, force: true });
    await git(["worktree", "prune"]);
  }
}

/** node_modules/* of `root` as symlinks in `tree`, and @ftgo/* as symlinks to `tree`'s own workspaces. */
function linkNodeModules(root: string, tree: string): void {
  const shared = realpathSync(join(root, "node_modules"));
  const own = join(tree, "node_modules");
  mkdirSync(join(own, "@ftgo"), { recursive: true });
  for (const entry of readdirSync(shared)) {
    if (entry !== "@ftgo") symlinkSync(join(shared, entry), join(own, entry));
  }
  for (const workspace of workspaceDirs(tree)) {
    const { name } = JSON.parse(readFileSync(join(workspace, "package.json"), "utf8")) as { name: string };
    if (name.startsWith("@ftgo/")) symlinkSync(workspace, join(own, name));
  }
}

/** The folders package.json's workspaces name (`gen`, `packages/*`, `services/*`). */
function workspaceDirs(tree: string): string[] {
  const { workspaces } = JSON.parse(readFileSync(join(tree, "package.json"), "utf8")) as { workspaces: string[] };
  return workspaces.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return [join(tree, pattern)];
    const parent = join(tree, pattern.slice(0, -2));
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(parent, entry.name));
  });
}
