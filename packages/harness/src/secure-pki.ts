// A mesh CA of a test's own, made by the real scripts/pki.sh in a temp folder: every identity of the mesh
// (service:order … admin:admin, broker:nats) and any learner certificates the test asks for. The secure-mode
// tests start their processes with these (FTGO_TLS_* or MeshTls) and call them as these identities.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { MeshTls } from "@ftgo/platform";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const run = promisify(execFile);

/** A test's CA and its certificates. */
export interface TestPki {
  /** The folder holding ca.crt and <name>.crt/<name>.key. */
  readonly dir: string;
  /** An identity's files, read, as `config.tls` holds them: a mesh identity, or a learner made by `learners`. */
  tls(name: string): MeshTls;
  /** FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY for a process that runs as `name`. */
  env(name: string): Record<string, string>;
  /** Removes the folder, keys and all. */
  remove(): void;
}

/**
 * Runs `scripts/pki.sh init` in a new temp folder, then `scripts/pki.sh cert NAME` for each of `learners`
 * (consumer ids such as "c-1001": a learner's certificate acts for the consumer it is named after).
 */
export async function createTestPki(learners: readonly string[] = []): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), "ftgo-pki-"));
  const pki = (...args: string[]) =>
    run("bash", [join(ROOT, "scripts/pki.sh"), ...args], { env: { ...process.env, FTGO_PKI_DIR: dir } });
  try {
    await pki("init");
    for (const name of learners) await pki("cert", name);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`scripts/pki.sh could not make the test's CA: ${(error as Error).message}`, { cause: error });
  }
  const files = (name: string) => ({
    ca: join(dir, "ca.crt"),
    cert: join(dir, `${name}.crt`),
    key: join(dir, `${name}.key`),
  });
  return {
    dir,
    tls(name) {
      const paths = files(name);
      return { ca: readFileSync(paths.ca), cert: readFileSync(paths.cert), key: readFileSync(paths.key), files: paths };
    },
    env(name) {
      const paths = files(name);
      return { FTGO_TLS_CA: paths.ca, FTGO_TLS_CERT: paths.cert, FTGO_TLS_KEY: paths.key };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
