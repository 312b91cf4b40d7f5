// A throwaway copy of this repository for tests that commit: the breaking-change gate looks at history
// (HEAD~1) and at proto/releases/, so its tests write commits and images, and they do it in a clone under
// the system's temp folder, never in the repository under test. The clone gets the history, then one commit
// of the working tree as it is (uncommitted edits included: the scripts being tested are the ones on disk),
// and node_modules as a symlink, so `npm run` and the pinned buf work in it.
import { execFile } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Commits in the clone are by this author, whoever runs the tests (and whatever their git config says). */
const AUTHOR = {
  GIT_AUTHOR_NAME: "ftgo-mesh tests",
  GIT_AUTHOR_EMAIL: "tests@ftgo-mesh.invalid",
  GIT_COMMITTER_NAME: "ftgo-mesh tests",
  GIT_COMMITTER_EMAIL: "tests@ftgo-mesh.invalid",
};

export interface RunResult {
  readonly code: number;
  /** stdout and stderr, in the order they were read. */
  readonly output: string;
}

export interface TempClone {
  readonly dir: string;
  /** Runs `command args…` in the clone and resolves with its exit status and output; never rejects on a status. */
  run(command: string, args: readonly string[]): Promise<RunResult>;
  /** Runs git in the clone and resolves with its stdout; rejects when git fails. */
  git(...args: string[]): Promise<string>;
  /** Rewrites the clone's file `path` with `change`; throws when the change leaves it as it was. */
  edit(path: string, change: (text: string) => string): void;
  /** Stages everything and commits it; resolves with the new commit's id. */
  commit(message: string): Promise<string>;
  /** Puts the clone back at `commit`, files and all. */
  resetTo(commit: string): Promise<void>;
  remove(): void;
}

/** Clones the repository under test (history + working tree) into a new temp folder. */
export async function cloneWorkingTree(): Promise<TempClone> {
  const dir = mkdtempSync(join(tmpdir(), "ftgo-clone-"));
  const run = (command: string, args: readonly string[], cwd = dir): Promise<RunResult> =>
    new Promise((resolve) => {
      const env = { ...process.env, ...AUTHOR };
      execFile(command, args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  const git = async (...args: string[]): Promise<string> => {
    const result = await run("git", args);
    if (result.code !== 0) throw new Error(`git ${args.join(" ")} failed in ${dir}:\n${result.output}`);
    return result.output.trim();
  };
  const clone: TempClone = {
    dir,
    run,
    git,
    edit(path, change) {
      const file = join(dir, path);
      const before = readFileSync(file, "utf8");
      const after = change(before);
      if (after === before) throw new Error(`the edit left ${path} unchanged`);
      writeFileSync(file, after);
    },
    async commit(message) {
      await git("add", "--all");
      await git("commit", "--quiet", "--allow-empty", "--message", message);
      return git("rev-parse", "HEAD");
    },
    async resetTo(commit) {
      await git("reset", "--quiet", "--hard", commit);
      await git("clean", "--quiet", "-d", "--force");
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const cloned = await run("git", ["clone", "--quiet", ROOT, dir], tmpdir());
    if (cloned.code !== 0) throw new Error(`git clone ${ROOT} failed:\n${cloned.output}`);
    // The working tree, as git in the repository would stage it (its .gitignore applies: no node_modules).
    await git(`--work-tree=${ROOT}`, "add", "--all");
    await git("commit", "--quiet", "--allow-empty", "--message", "the working tree under test");
    await git("reset", "--quiet", "--hard");
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    // .gitignore's `node_modules/` matches a folder, not a symlink: keep the link out of commits and cleans.
    appendFileSync(join(dir, ".git", "info", "exclude"), "/node_modules\n");
    return clone;
  } catch (err) {
    clone.remove();
    throw err;
  }
}
