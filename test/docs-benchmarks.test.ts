// docs/benchmarks.md's block, kept true without running the benchmarks (minutes of load, and they rewrite the
// committed bench/results/): `make bench` is `npm run bench`, and the suites the page names, in its block and
// its table, are exactly the suites `npm run bench` accepts, which it lists when given a name it does not know;
// and the README's figures are those of the committed results, as `npm run bench:readme` renders them.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSavedResults, renderReadmeTable } from "../bench/readme-table.js";
import { commandsOf, ROOT, readPage, shBlock } from "./doc-blocks.js";

const PAGE = "docs/benchmarks.md";

describe(PAGE, () => {
  it("shows `make bench`, which the Makefile runs as `npm run bench`", () => {
    const lines = commandsOf(shBlock(PAGE, "make bench")).map(({ line }) => line);
    expect(lines[0]).toMatch(/^make bench\b/);
    const makefile = readFileSync(join(ROOT, "Makefile"), "utf8");
    expect(makefile).toMatch(/^bench:.*\n\tnpm run bench$/m);
  });

  it("names exactly the suites `npm run bench` knows", () => {
    const result = spawnSync("npm", ["run", "-s", "bench", "--", "no-such-suite"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).not.toBe(0);
    const known = /known: (.+)$/m.exec(result.stderr)?.[1]?.split(", ") ?? [];
    expect(known.length, result.stderr).toBeGreaterThan(0);
    const tableSuites = [...readPage(PAGE).matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]);
    expect(tableSuites).toEqual(known);
    const oneSuite = commandsOf(shBlock(PAGE, "make bench")).find(({ line }) => line.startsWith("npm run bench -- "));
    expect(known).toContain(oneSuite?.line.split(/\s+/)[4]);
    for (const name of known) expect(oneSuite?.line).toContain(name);
  });
});

describe("README.md's benchmark table", () => {
  it("is the one rendered from the committed bench/results/latest-*.json (npm run bench:readme)", () => {
    expect(readPage("README.md")).toContain(renderReadmeTable(loadSavedResults()));
  });
});
