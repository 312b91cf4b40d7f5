// The Go side of the contract (issue 12): gen/go (written by `npm run generate`) and the go/ module that uses it
// (the Loyalty service, the ftgo CLI) pass `go vet` and `go test ./...`, as part of `make test`. Go is required
// on our machines (scripts/setup.sh): without it these fail, naming the fix.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findGo } from "@ftgo/harness/go-toolchain.js";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODULES = ["gen/go", "go"] as const;

/** One `go test -json` event: a package's or a test's outcome. */
interface TestEvent {
  readonly Action: string;
  readonly Package: string;
  readonly Test?: string;
  readonly Output?: string;
}

async function goIn(dir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(findGo(), args, {
      cwd: `${ROOT}/${dir}`,
      env: { ...process.env, CGO_ENABLED: "0" },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 480_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, out: (e.stdout ?? "") + (e.stderr ?? "") };
  }
}

describe.each(MODULES)("the Go module %s", (dir) => {
  it("passes go vet ./...", { timeout: 480_000 }, async () => {
    const vet = await goIn(dir, "vet", "./...");
    // What vet found, without the module downloads a cold cache reports (scripts/setup.sh fetches them first).
    expect(vet.out.replace(/^go: downloading .*\n/gm, "")).toBe("");
    expect(vet.code).toBe(0);
  });

  it("passes go test ./..., every package", { timeout: 480_000 }, async () => {
    const result = await goIn(dir, "test", "-json", "-count=1", "./...");
    const events = result.out
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as TestEvent);
    const failed = events.filter((e) => e.Action === "fail");
    const outputOf = (e: TestEvent) =>
      events
        .filter((o) => o.Package === e.Package && o.Test === e.Test && o.Action === "output")
        .map((o) => o.Output)
        .join("");
    // The failed tests' names are what is compared (a short diff), their output the message: a log shown by
    // its tail still says which Go test failed and why.
    const why = failed.map((e) => `${e.Package} ${e.Test ?? ""}: ${outputOf(e).slice(-1200)}`).join("\n");
    expect(
      failed.map((e) => `${e.Package} ${e.Test ?? ""}`),
      why,
    ).toEqual([]);
    if (dir === "go") expect(events.filter((e) => e.Action === "pass" && e.Test).length).toBeGreaterThan(0);
    expect(result.code, result.out.slice(-4000)).toBe(0);
  });
});
