// The kitchen display (scripts/kitchen-display.ts) in the secure mode: Kitchen asks every caller for a
// certificate of the mesh CA, so the display calls with mTLS as the operator (FTGO_TLS_* naming admin's files),
// and without them it gets nowhere.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type SecureOrderMesh, startSecureOrderMesh } from "@ftgo/harness/secure-order-mesh.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

let mesh: SecureOrderMesh;
const displays: ChildProcess[] = [];

beforeAll(async () => {
  mesh = await startSecureOrderMesh();
}, 60_000);
afterEach(() => {
  for (const display of displays.splice(0)) if (display.exitCode === null) display.kill("SIGKILL");
});
afterAll(async () => {
  await mesh?.stop();
});

/** Starts the display of r-1 against the secure Kitchen with `tlsEnv` (FTGO_TLS_* or none). */
function startDisplay(tlsEnv: Record<string, string>) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KITCHEN_ADDR: mesh.kitchen.address, ...tlsEnv };
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/kitchen-display.ts", "r-1"], {
    cwd: ROOT,
    env,
    stdio: "pipe",
  });
  displays.push(child);
  const chunks: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => Buffer.concat(chunks).toString() };
}

it("streams the tickets with the operator's certificate, then stops on Ctrl-C", async () => {
  const display = startDisplay(mesh.pki.env("admin"));
  await waitFor(() => display.output().includes("waiting for new ones"), {
    timeoutMs: 15_000,
    message: () => `the display to list the open tickets; it printed:\n${display.output()}`,
  });
  display.child.kill("SIGINT");
  expect(await display.exited).toBe(0);
});

it("gets nowhere without a certificate", async () => {
  const display = startDisplay({});
  expect(await display.exited).toBe(1);
  expect(display.output()).toContain("Unavailable");
  expect(display.output()).not.toContain("waiting for new ones");
});
