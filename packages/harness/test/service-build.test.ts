// The build step's promise: a bundle is rebuilt whenever a file it was built from changed (content, not
// mtime), and only then. Run on a tiny service in a temp root, with the real esbuild and the real node.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildServices, builtMain, isFresh } from "@ftgo/harness/service-build.js";
import { afterAll, describe, expect, it } from "vitest";

const root = mkdtempSync(join(tmpdir(), "ftgo-build-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string) {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
}

const run = () => execFileSync(process.execPath, [builtMain("greeter", root)], { encoding: "utf8" }).trim();

describe("buildServices", () => {
  write("services/greeter/src/main.ts", 'import { greeting } from "./greeting.js";\nconsole.log(greeting);\n');
  write("services/greeter/src/greeting.ts", 'export const greeting: string = "hello";\n');

  it("builds a missing bundle, and the bundle runs with plain node", async () => {
    expect((await buildServices({ root })).map((b) => b.rebuilt)).toEqual([true]);
    expect(run()).toBe("hello");
  });

  it("skips the build when no input changed, even when a file was touched", async () => {
    utimesSync(join(root, "services/greeter/src/greeting.ts"), new Date(), new Date());
    expect(isFresh("greeter", root)).toBe(true);
    expect((await buildServices({ root })).map((b) => b.rebuilt)).toEqual([false]);
  });

  it("rebuilds when a file the bundle imports changed, and runs the new code", async () => {
    write("services/greeter/src/greeting.ts", 'export const greeting: string = "bonjour";\n');
    expect(isFresh("greeter", root)).toBe(false);
    expect((await buildServices({ root })).map((b) => b.rebuilt)).toEqual([true]);
    expect(run()).toBe("bonjour");
  });

  it("rebuilds when the bundle itself is gone", async () => {
    rmSync(builtMain("greeter", root));
    expect((await buildServices({ root })).map((b) => b.rebuilt)).toEqual([true]);
    expect(run()).toBe("bonjour");
  });
});
