// The docs stay short, connected and runnable: README.md fits in 12 KB and links every page of docs/, every
// relative link of every page leads to a file that exists, and every ```sh block of every page is claimed by
// a test that runs it (test/doc-claims.ts). A new command block without a test fails here, not in a reader's
// terminal.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { commandsOf, docPages, ROOT, readPage, type ShBlock, shBlocks } from "./doc-blocks.js";
import { DOC_CLAIMS, type DocClaim } from "./doc-claims.js";

const README_LIMIT_BYTES = 12 * 1024;

/**
 * Files the docs link to that sibling branches of issue 9 create (steps beside their compensations, the
 * subscription API apart from the inbox, self-registration on its own, the harness package, the supervisor's
 * page). Each entry fails the test once the file exists, so the list empties itself as the branches merge.
 */
const blocks = docPages().flatMap(shBlocks);

function claimsFor(block: ShBlock): DocClaim[] {
  return DOC_CLAIMS.filter(
    (claim) => claim.page === block.page && (claim.marker === "*" || block.text.includes(claim.marker)),
  );
}

describe("README.md", () => {
  it(`fits in ${README_LIMIT_BYTES / 1024} KB`, () => {
    expect(statSync(join(ROOT, "README.md")).size).toBeLessThanOrEqual(README_LIMIT_BYTES);
  });

  it.each(docPages().filter((page) => page !== "README.md"))("links %s", (page) => {
    expect(readPage("README.md")).toContain(`](${page})`);
  });
});

describe.each(docPages())("%s", (page) => {
  it("links only to files that exist", () => {
    const missing = relativeLinks(page).filter((target) => !existsSync(join(ROOT, target)));
    expect(missing).toEqual([]);
  });
});

describe.each(docPages())("%s", (page) => {
  it("links only to headings that exist (GitHub's anchors)", () => {
    const broken = anchorLinks(page).filter(
      ({ target, anchor }) => existsSync(join(ROOT, target)) && !headingAnchors(target).includes(anchor),
    );
    expect(broken).toEqual([]);
  });
});

describe("every command block of the docs is run by a test", () => {
  it.each(blocks.map((block) => [block.page, block.section, block] as const))(
    "%s › %s is claimed",
    (_page, _section, block) => {
      expect(claimsFor(block), block.text).not.toEqual([]);
    },
  );

  it.each(DOC_CLAIMS.map((claim) => [claim.page, claim.marker, claim] as const))(
    "%s › the claim `%s` names one block, and runners that read it",
    (page, marker, claim) => {
      const matching = shBlocks(page).filter((block) => marker === "*" || block.text.includes(marker));
      if (marker === "*") expect(matching.length).toBeGreaterThan(0);
      else expect(matching, `blocks of ${page} with ${marker}`).toHaveLength(1);
      for (const runner of claim.runners) {
        expect(existsSync(join(ROOT, runner)), runner).toBe(true);
        if (runner.endsWith(".test.ts")) {
          // A runner finds its blocks through the registry or by the page's name: either way it reads them.
          const source = readFileSync(join(ROOT, runner), "utf8");
          expect(source.includes("doc-claims") || source.includes(page), `${runner} reads ${page}`).toBe(true);
        }
      }
      if (claim.runners.every((runner) => runner === ".ci/run")) {
        for (const block of matching) for (const { line } of commandsOf(block)) expect(runInCi(line), line).toBe(true);
      }
    },
  );
});

/** The relative links of a page (markdown `](target)`), resolved against the page's folder, anchors dropped. */
function relativeLinks(page: string): string[] {
  const targets = [...readPage(page).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
  return targets
    .filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith("#"))
    .map((target) => normalize(join(dirname(page), target.split("#")[0] as string)).replace(/\/$/, ""));
}

/** The links of a page to a heading of a markdown page (its own included), as `{ target, anchor }`. */
function anchorLinks(page: string): { target: string; anchor: string }[] {
  return [...readPage(page).matchAll(/\]\(([^)\s]*)#([^)\s]+)\)/g)]
    .filter((m) => !/^[a-z]+:/.test(m[1] as string))
    .map((m) => ({ target: m[1] ? normalize(join(dirname(page), m[1])) : page, anchor: m[2] as string }))
    .filter(({ target }) => target.endsWith(".md"));
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchors(page: string): string[] {
  return [...readPage(page).matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replaceAll(" ", "-"),
  );
}

/** Whether `.ci/run` runs `make <target>`, itself or as the `npm run <target>` the Makefile aliases. */
function runInCi(line: string): boolean {
  const target = /^make ([a-z-]+)/.exec(line)?.[1];
  if (!target) return false;
  const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
  const makefile = readFileSync(join(ROOT, "Makefile"), "utf8");
  const recipe = new RegExp(`^${target}:.*\\n((?:\\t.*\\n)+)`, "m").exec(makefile)?.[1] ?? "";
  return ci.includes(`make ${target}`) || (recipe.includes(`npm run ${target}`) && ci.includes(`npm run ${target}`));
}
