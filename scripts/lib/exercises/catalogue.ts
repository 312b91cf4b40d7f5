// The exercises are folders exercises/NN-slug/, each with an exercise.ts that default-exports its Exercise.
// They are found by listing the folder, so a new exercise needs no registration here.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Exercise } from "./types.js";

export interface ExerciseEntry {
  readonly exercise: Exercise;
  /** Absolute path of exercises/NN-slug. */
  readonly dir: string;
}

export async function loadExercises(root: string): Promise<ExerciseEntry[]> {
  const base = join(root, "exercises");
  const dirs = readdirSync(base)
    .filter((name) => /^\d\d-/.test(name) && existsSync(join(base, name, "exercise.ts")))
    .sort();
  return Promise.all(
    dirs.map(async (name) => {
      const module = (await import(pathToFileURL(join(base, name, "exercise.ts")).href)) as { default: Exercise };
      return { exercise: module.default, dir: join(base, name) };
    }),
  );
}

export async function findExercise(root: string, number: number): Promise<ExerciseEntry> {
  const found = (await loadExercises(root)).find((entry) => entry.exercise.number === number);
  if (!found) throw new Error(`there is no exercise ${number}: \`npm run exercise -- list\` shows them`);
  return found;
}
