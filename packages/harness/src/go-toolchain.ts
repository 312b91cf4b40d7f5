import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * The Go toolchain that `scripts/setup.sh` requires (the Loyalty service and the ftgo CLI are Go programs):
 * $GO, then `go` on PATH, then /usr/local/go/bin/go. Throws with the fix when there is none: the Go tests
 * fail rather than skip on a machine without Go.
 */
export function findGo(): string {
  const candidates = [process.env.GO, ...(process.env.PATH ?? "").split(":").map((d) => join(d, "go"))];
  const found = [...candidates, "/usr/local/go/bin/go"].find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error("Go not found: install Go 1.26 or newer (see README) and run `make setup`");
  return found;
}

/** The folder `go install` writes to ($(go env GOBIN) or the first $(go env GOPATH)/bin). */
export function goBinDir(): string {
  const go = findGo();
  const gobin = execFileSync(go, ["env", "GOBIN"], { encoding: "utf8" }).trim();
  if (gobin) return gobin;
  const gopath = execFileSync(go, ["env", "GOPATH"], { encoding: "utf8" }).trim().split(":")[0];
  return join(gopath, "bin");
}

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * Builds go/cmd/<program> into go/bin/<program> with scripts/build-go.sh (atomic, and a Go build-cache hit when no
 * source changed); resolves with the binary's path. Rejects with the compiler's output when the build fails.
 * `timeoutMs` 0: no limit.
 */
export async function buildGoProgram(program: string, timeoutMs = 300_000): Promise<string> {
  try {
    await promisify(execFile)("bash", [join(ROOT, "scripts", "build-go.sh"), program], {
      cwd: ROOT,
      timeout: timeoutMs,
    });
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`building go/cmd/${program} failed:\n${stderr?.trim() || message}`);
  }
  return join(ROOT, "go", "bin", program);
}
