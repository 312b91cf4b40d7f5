// The exercises of docs/exercises/ keep their promise: `npm run exercise -- solve <n>` applies each reference
// solution in a throw-away worktree and its `check` passes every check; each known-wrong attempt is rejected
// with the hint the learner needs. A solve runs the real runner as a learner would (buf, generate, tsx).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadExercises } from "../scripts/lib/exercises/catalogue.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const exercises = await loadExercises(ROOT);

async function exercise(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(join(ROOT, "node_modules", ".bin", "tsx"), ["scripts/exercise.ts", ...args], {
      cwd: ROOT,
      timeout: 170_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, output: (e.stdout ?? "") + (e.stderr ?? "") };
  }
}

describe("npm run exercise", () => {
  it("lists every exercise with what it teaches", async () => {
    const { code, output } = await exercise("list");
    expect(code).toBe(0);
    for (const { exercise } of exercises) expect(output).toContain(exercise.teaches);
  });

  it.each(exercises.map(({ exercise }) => [exercise.number, exercise.title] as const))(
    "solve %i (%s) passes every check",
    async (number) => {
      const { code, output } = await exercise("solve", String(number));
      expect(output).toMatch(/All \d+ checks pass\./);
      expect(output).not.toContain("✗");
      expect(code).toBe(0);
    },
    180_000,
  );

  it.each(
    exercises
      .filter(({ exercise }) => exercise.wrong)
      .map(({ exercise }) => [exercise.number, exercise.title, exercise.wrong?.hint as RegExp] as const),
  )(
    "solve %i --wrong (%s) is rejected with the hint",
    async (number, _title, hint) => {
      const { code, output } = await exercise("solve", String(number), "--wrong");
      expect(output).toMatch(hint);
      expect(output).toContain("✗");
      expect(code).toBe(1);
    },
    180_000,
  );

  it("judges the tree as HEAD has it: the exercises are not solved there yet", async () => {
    for (const {
      exercise: { number },
    } of exercises) {
      const { code, output } = await exercise("check", String(number));
      expect(output).toContain("✗");
      expect(code).toBe(1);
    }
  }, 180_000);
});
