// Test support for the secure mode: a real mesh PKI (scripts/pki.sh) in a temporary directory, and the
// MeshTls of any identity in it, made once per test file and removed after it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MeshTls } from "../src/mesh-tls.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** A CA with the mesh's identities (service:order, gateway:gateway, admin:admin, …) and learner certificates. */
export interface MeshPki {
  readonly dir: string;
  /** The MeshTls of identity `name`, as loadMeshTls would read it. */
  tls(name: string): MeshTls;
  /** Removes the directory, keys and all. */
  remove(): void;
}

/** Runs `scripts/pki.sh init` in a new temporary directory, then `pki.sh cert` for each learner named. */
export function createMeshPki(learners: readonly string[] = []): MeshPki {
  const dir = mkdtempSync(join(tmpdir(), "ftgo-pki-"));
  const pki = (...args: string[]) =>
    execFileSync("bash", [join(ROOT, "scripts/pki.sh"), ...args], {
      env: { ...process.env, FTGO_PKI_DIR: dir },
      stdio: "pipe",
    });
  pki("init");
  for (const learner of learners) pki("cert", learner);
  return {
    dir,
    tls(name) {
      const files = { ca: join(dir, "ca.crt"), cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
      return { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key), files };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
