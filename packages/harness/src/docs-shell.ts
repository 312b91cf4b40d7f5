// Running the docs' shell commands as a reader would: in bash, from the repository root, with grpcurl on
// PATH, the documented ports swapped for the test mesh's. Shared by the tests that keep the docs runnable:
// test/make-up.test.ts (the README against `make up`) and test/interaction-styles.test.ts.
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { MESH_SERVICES, type MeshServiceName } from "@ftgo/platform/roster";
import { findGrpcurl } from "./grpcurl.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** The ports the docs show: where `make up` runs each service by default (the roster's ports). */
export const DOCUMENTED_PORTS = Object.fromEntries(
  MESH_SERVICES.map((service) => [service.name, service.port]),
) as Readonly<Record<MeshServiceName, number>>;

/** `text` with every documented `127.0.0.1:<port>` replaced by the port this run gave that service. */
export function withPorts(text: string, ports: Readonly<Partial<Record<MeshServiceName, number>>>): string {
  let result = text;
  for (const [name, documented] of Object.entries(DOCUMENTED_PORTS) as [MeshServiceName, number][]) {
    const port = ports[name];
    if (port !== undefined) result = result.replaceAll(`127.0.0.1:${documented}`, `127.0.0.1:${port}`);
  }
  return result;
}

/** This process's environment with grpcurl's folder first on PATH (`make test` installs it off PATH), plus `extra`. */
export function shellEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(findGrpcurl())}:${process.env.PATH}`, ...extra };
}

export interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ShellOptions {
  /** Killed, with everything it started, after this long. */
  readonly timeoutMs: number;
  /** Added to shellEnv(): DATA_DIR, say. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs `script` with `bash -c` from the repository root, in a process group of its own, and resolves with its
 * exit status and output. If it outlives `timeoutMs`, the whole group — background jobs and pipelines
 * included, which killing bash alone would leave running — gets SIGKILL, and stderr says so.
 */
export function runShell(script: string, { timeoutMs, env }: ShellOptions): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd: ROOT, env: shellEnv(env), stdio: "pipe", detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err; // the group ended meanwhile
      }
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
