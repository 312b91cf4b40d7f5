// The docs' runnable parts, as the tests that keep them honest read them: the ```sh blocks of README.md and of
// docs/*.md, each with the heading it sits under. A block fenced ```sh live would not match (none today): it
// stands for a command that never ends by itself.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One ```sh block of a page. */
export interface ShBlock {
  /** The page, relative to the repository root: `README.md`, `docs/gateway.md`. */
  readonly page: string;
  /** The nearest `#`/`##`/`###` heading above it, "(top)" when there is none. */
  readonly section: string;
  /** The block's text, without the fences. */
  readonly text: string;
}

/** Every page that may hold commands: the README and each docs/*.md. */
export function docPages(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

export function readPage(page: string): string {
  return readFileSync(join(ROOT, page), "utf8");
}

/** The ```sh blocks of `page`, in page order. */
export function shBlocks(page: string): ShBlock[] {
  const text = readPage(page);
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => ({
    page,
    section: [...text.slice(0, m.index).matchAll(/^#{1,3} (.+)$/gm)].at(-1)?.[1] ?? "(top)",
    text: m[1] ?? "",
  }));
}

/** The one ```sh block of `page` that contains `marker`; throws when none does, naming the page. */
export function shBlock(page: string, marker: string): ShBlock {
  const block = shBlocks(page).find((b) => b.text.includes(marker));
  if (!block) throw new Error(`no sh block with ${JSON.stringify(marker)} in ${page}`);
  return block;
}

/** A command line of a block and the `#   …` lines under it: the error output the page says it gets. */
export interface DocCommand {
  readonly line: string;
  readonly expectedError: readonly string[];
}

/** The command lines of a block (comment and blank lines left out), each with its documented error, if any. */
export function commandsOf(block: ShBlock): DocCommand[] {
  const lines = block.text.split("\n");
  const commands: DocCommand[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const expectedError: string[] = [];
    for (let j = i + 1; lines[j]?.startsWith("#   "); j++) expectedError.push((lines[j] as string).slice(4).trim());
    commands.push({ line, expectedError });
  });
  return commands;
}
