// The contract-evolution exercises (docs/exercises/): list them, judge the working tree against one, watch
// the reference solution (or a known-wrong attempt) judged in a throw-away worktree, put the tree back.
//
//   npm run exercise -- list
//   npm run exercise -- check <n>
//   npm run exercise -- solve <n> [--wrong]
//   npm run exercise -- reset [<n>]
import { basename, dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable, runCli, UsageError } from "./lib/cli.js";
import { findExercise, loadExercises } from "./lib/exercises/catalogue.js";
import { judge } from "./lib/exercises/judge.js";
import { resetPaths } from "./lib/exercises/reset.js";
import { solveInWorktree } from "./lib/exercises/solve.js";

const USAGE = `usage: npm run exercise -- list | check <n> | solve <n> [--wrong] | reset [<n>]`;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function numberArg(value: string | undefined): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1)
    throw new UsageError(`expected an exercise number, got ${value ?? "nothing"}`);
  return n;
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  switch (command) {
    case "list": {
      const rows = (await loadExercises(root)).map(({ exercise }) => [
        String(exercise.number),
        exercise.title,
        exercise.teaches,
      ]);
      console.log(formatTable(["#", "exercise", "what to notice"], rows));
      return;
    }
    case "check": {
      const { exercise } = await findExercise(root, numberArg(rest[0]));
      if (!(await judge(root, exercise, (line) => console.log(line)))) process.exitCode = 1;
      return;
    }
    case "solve": {
      const number = numberArg(rest[0]);
      const wrong = rest.includes("--wrong");
      const { exercise, dir } = await findExercise(root, number);
      if (wrong && !exercise.wrong) throw new UsageError(`exercise ${number} has no wrong.patch`);
      const code = await solveInWorktree({ root, number, folder: basename(dir), wrong, print: console.log });
      process.exitCode = code === 0 ? 0 : 1;
      return;
    }
    case "reset": {
      const entries = rest[0] ? [await findExercise(root, numberArg(rest[0]))] : await loadExercises(root);
      const paths = [...new Set(["proto", "gen", ...entries.flatMap(({ exercise }) => exercise.touches)])];
      const saved = await resetPaths(root, paths);
      console.log(
        saved
          ? `Put back ${paths.join(", ")} as HEAD has them; what was there is saved in ${relative(root, saved)}.`
          : `Nothing to put back: ${paths.join(", ")} are as HEAD has them.`,
      );
      return;
    }
    case "--help":
    case "-h":
      throw new UsageError("");
    default:
      throw new UsageError(command ? `unknown command ${command}` : "");
  }
}

await runCli(() => main(process.argv.slice(2)), { name: "exercise", usage: USAGE });
