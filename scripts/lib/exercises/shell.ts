// How the runner and the checks run commands: buf, git, npm. A non-zero exit is an answer, not an error, so
// nothing here throws for it; a command that overruns its time is killed and answers 124, like timeout(1).
import { spawn } from "node:child_process";
import type { CommandResult } from "./types.js";

export interface RunOptions {
  readonly cwd: string;
  readonly timeoutMs?: number;
  readonly env?: Record<string, string>;
}

/** Runs `command` with `args` (no shell), collecting stdout and stderr together. */
export function runCommand(command: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal === "SIGKILL" ? 124 : (code ?? 1), output });
    });
  });
}
