// `check <n>`: every check of the exercise runs, in order, and prints ✓ or ✗ with what is still missing, so
// the learner sees the whole way to go at once rather than one complaint per run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCheckContext } from "./context.js";
import type { Exercise, Verdict } from "./types.js";

/** Judges the tree at `root`; prints as it goes; true when every check passes. */
export async function judge(root: string, exercise: Exercise, print: (line: string) => void): Promise<boolean> {
  const scratch = mkdtempSync(join(tmpdir(), "ftgo-exercise-check-"));
  try {
    const ctx = createCheckContext(root, scratch);
    print(`Exercise ${exercise.number}: ${exercise.title} (against release ${ctx.latestReleaseVersion})`);
    let passed = 0;
    for (const check of exercise.checks) {
      const verdict: Verdict = await check.run(ctx).catch((err: unknown) => ({
        ok: false as const,
        missing: `the check itself failed: ${err instanceof Error ? err.message : String(err)}`,
      }));
      if (verdict.ok) {
        passed += 1;
        print(`  ✓ ${check.name}${verdict.detail ? `\n${indent(verdict.detail)}` : ""}`);
      } else {
        print(`  ✗ ${check.name}\n${indent(verdict.missing)}`);
      }
    }
    const all = passed === exercise.checks.length;
    print(all ? `All ${passed} checks pass.` : `${passed} of ${exercise.checks.length} checks pass.`);
    return all;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}
