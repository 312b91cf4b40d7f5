// The build step's promises: a bundle is rebuilt whenever a file it was built from changed (content, not
// mtime), and only then; it carries the npm packages it imports, but not the few kept as imports. Run on a tiny
// service in a temp root, with the real esbuild and the real node.
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildServices, builtMain, isFresh } from "@ftgo/harness/service-build.js";
import { afterAll, describe, expect, it } from "vitest";

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A workspace of its own, and how to write a file into it. */
function tempWorkspace(): { root: string; write(path: string, text: string): void } {
  const root = mkdtempSync(join(tmpdir(), "ftgo-build-"));
  roots.push(root);
  return {
    root,
    write(path, text) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), text);
    },
  };
}

const { root, write } = tempWorkspace();

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

describe("buildServices with npm packages", () => {
  const { root, write } = tempWorkspace();
  // A CommonJS package that requires one of Node's built-ins, as most of the mesh's packages do.
  write("node_modules/shouter/package.json", '{ "name": "shouter", "version": "1.0.0", "main": "index.js" }\n');
  write(
    "node_modules/shouter/index.js",
    'const { EOL } = require("node:os");\nexports.shout = (s) => s.toUpperCase() + EOL;\n',
  );
  write("node_modules/.package-lock.json", '{ "lockfileVersion": 3 }\n');
  write("services/shouting/src/main.ts", 'import { shout } from "shouter";\nprocess.stdout.write(shout("hello"));\n');
  const shouting = () => execFileSync(process.execPath, [builtMain("shouting", root)], { encoding: "utf8" }).trim();

  it("bundles a package, so that the bundle runs without node_modules", async () => {
    await buildServices({ root });
    renameSync(join(root, "node_modules/shouter"), join(root, "shouter-away"));
    try {
      expect(shouting()).toBe("HELLO");
    } finally {
      renameSync(join(root, "shouter-away"), join(root, "node_modules/shouter"));
    }
  });

  it("stands for the packages' files by npm's record of the install: a new install rebuilds", async () => {
    expect(isFresh("shouting", root)).toBe(true);
    write("node_modules/.package-lock.json", '{ "lockfileVersion": 3, "packages": {} }\n');
    expect(isFresh("shouting", root)).toBe(false);
  });

  it("puts a package reached only by import() in a chunk beside the bundle, loaded when it is used", async () => {
    write(
      "services/lazy/src/main.ts",
      'const { shout } = (await import("shouter")).default;\nprocess.stdout.write(shout("later"));\n',
    );
    await buildServices({ root });
    const dir = join(builtMain("lazy", root), "..");
    const chunks = readdirSync(dir).filter((file) => file.startsWith("chunk-"));
    expect(chunks.filter((chunk) => readFileSync(join(dir, chunk), "utf8").includes("toUpperCase"))).toHaveLength(1);
    expect(readFileSync(builtMain("lazy", root), "utf8")).not.toContain("toUpperCase");
    expect(execFileSync(process.execPath, [builtMain("lazy", root)], { encoding: "utf8" }).trim()).toBe("LATER");
  });

  it("leaves a native addon as an import, resolved when the service starts", async () => {
    write("services/native/src/main.ts", 'import Database from "better-sqlite3";\nconsole.log(typeof Database);\n');
    await buildServices({ root });
    expect(readFileSync(builtMain("native", root), "utf8")).toMatch(/^import \w+ from "better-sqlite3";$/m);
  });
});
