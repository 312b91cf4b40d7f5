// The reliability table stays true without running its suites (CI runs them all): every row's test files
// exist, every title it names is still the title of a test in them, and docs/reliability.md, which
// `npm run reliability` generates, shows exactly the rows of the table, in order.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tablePromises } from "@ftgo/harness/reliability-report.js";
import { RELIABILITY_ROWS } from "@ftgo/harness/reliability-rows.js";
import { describe, expect, it } from "vitest";
import { ROOT } from "./doc-blocks.js";

/**
 * The titles of a test file as written: the first string argument of `it(`, `test(`, `describe(` and their
 * `.each`/`.sequential` forms, and of the curried call after `it.each(…)(`.
 */
function titlesOf(file: string): string[] {
  const source = readFileSync(join(ROOT, file), "utf8");
  const call = /(?:\b(?:it|test|describe)(?:\.\w+)*|\))\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g;
  return [...source.matchAll(call)].map((match) => match[2] ?? "");
}

describe("the reliability table", () => {
  it.each(RELIABILITY_ROWS.flatMap((row) => row.proofs.map((proof) => [row.promise, proof] as const)))(
    "%s: its test file exists and a test title matches",
    (_promise, { file, title }) => {
      expect(existsSync(join(ROOT, file)), file).toBe(true);
      expect(
        titlesOf(file).some((written) => written.includes(title)),
        `${file} has a test titled with "${title}"`,
      ).toBe(true);
    },
  );

  it("names each promise once", () => {
    const promises = RELIABILITY_ROWS.map((row) => row.promise);
    expect(new Set(promises).size).toBe(promises.length);
  });

  it("is what docs/reliability.md shows, row for row (regenerate it with npm run reliability)", () => {
    const page = readFileSync(join(ROOT, "docs/reliability.md"), "utf8");
    expect(tablePromises(page)).toEqual(RELIABILITY_ROWS.map((row) => row.promise));
  });
});
