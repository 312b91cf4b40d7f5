import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

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
