// "Generated code up to date": generate from the tree's proto/ into a scratch folder and compare it with the
// tree's gen/, file by file, without touching the tree (a check judges; it never repairs).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { CommandResult, Verdict } from "./types.js";

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
      .sort();
  } catch {
    return [];
  }
}

/** Compares `<scratch>/gen/ts`, written by `generate`, with `<root>/gen/ts`. */
export async function compareGenerated(
  root: string,
  scratch: string,
  generate: (outputDir: string) => Promise<CommandResult>,
): Promise<Verdict> {
  const out = join(scratch, "generated");
  const result = await generate(out);
  if (result.code !== 0) {
    return { ok: false, missing: `buf generate fails on proto/: fix the .proto first.\n${result.output.trim()}` };
  }
  const fresh = join(out, "gen", "ts");
  const committed = join(root, "gen", "ts");
  const names = [...new Set([...filesUnder(fresh), ...filesUnder(committed)])];
  const stale = names.filter((name) => {
    try {
      return !readFileSync(join(fresh, name)).equals(readFileSync(join(committed, name)));
    } catch {
      return true;
    }
  });
  if (stale.length === 0) return { ok: true };
  const shown = stale.slice(0, 5).map((name) => `gen/ts/${name}`);
  return {
    ok: false,
    missing: `gen/ is older than proto/ (${shown.join(", ")}${stale.length > 5 ? ", …" : ""}): run \`npm run generate\``,
  };
}
