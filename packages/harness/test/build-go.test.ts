// scripts/build-go.sh's promise: a program whose binary was built from the sources as they are is not linked
// again (callers run it before every start, and a link takes seconds), and one whose source changed is. Run on a
// tiny Go program in a temp root with the real script and the real toolchain.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "ftgo-build-go-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

mkdirSync(join(root, "scripts"));
for (const script of ["build-go.sh", "go-env.sh"])
  copyFileSync(join(ROOT, "scripts", script), join(root, "scripts", script));
mkdirSync(join(root, "go/cmd/hello"), { recursive: true });
writeFileSync(join(root, "go/go.mod"), "module example.com/hello\n\ngo 1.22\n");
const say = (text: string) =>
  writeFileSync(join(root, "go/cmd/hello/main.go"), `package main\n\nfunc main() { println("${text}") }\n`);

const build = () => execFileSync("bash", [join(root, "scripts/build-go.sh"), "hello"], { encoding: "utf8" });
const binary = join(root, "go/bin/hello");
/** What the program prints (println writes to stderr). */
const run = () => spawnSync(binary, { encoding: "utf8" }).stderr.trim();
/** The binary as a file: a new inode means it was written again. */
const identity = () => {
  const { ino, mtimeMs } = statSync(binary);
  return { ino, mtimeMs };
};

describe("scripts/build-go.sh", () => {
  it("builds a program into go/bin", () => {
    say("hello");
    build();
    expect(run()).toBe("hello");
  });

  it("leaves the binary alone when no source changed", () => {
    const before = identity();
    build();
    expect(identity()).toEqual(before);
  });

  it("builds again when a source changed, and the binary runs the new code", () => {
    const before = identity();
    say("bonjour");
    build();
    expect(identity().ino).not.toBe(before.ino);
    expect(run()).toBe("bonjour");
  });
});
