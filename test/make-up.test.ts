// The README's two promises, kept by a test: `make up` (scripts/up.ts) brings every service to SERVING,
// every grpcurl command the README shows works against it verbatim (only the port differs), and Ctrl-C
// leaves no process behind. up.ts starts its own nats-server here, as on a fresh machine.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runShell, shellEnv, withPorts } from "@ftgo/harness/docs-shell.js";
import { SERVICE_NAMES } from "@ftgo/platform/roster";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** How long one README command may run. */
const COMMAND_TIMEOUT_MS = 20_000;

let up: ChildProcess;
let output = "";
let dataDir: string;
let ports: Record<(typeof SERVICE_NAMES)[number], number>;
let pids: number[] = [];
let gatewayPort: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "ftgo-up-"));
  const free = await Promise.all([...SERVICE_NAMES, "nats", "gateway"].map(() => freePort()));
  gatewayPort = free[SERVICE_NAMES.length + 1] as number;
  ports = Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, free[i]])) as typeof ports;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    NATS_URL: `nats://127.0.0.1:${free[SERVICE_NAMES.length]}`,
    NO_COLOR: "1",
  };
  for (const name of SERVICE_NAMES) env[`${name.toUpperCase()}_PORT`] = String(ports[name]);
  env.GATEWAY_PORT = String(gatewayPort);
  up = spawn(process.execPath, ["--import", "tsx", "scripts/up.ts"], { cwd: ROOT, env, stdio: "pipe" });
  up.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  up.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(() => output.includes("ftgo-mesh is up") || up.exitCode !== null, {
    timeoutMs: 60_000,
    message: "make up did not report ready",
  });
  expect(up.exitCode, output).toBeNull();
  pids = processTree(up.pid as number);
}, 90_000);

afterAll(async () => {
  if (up && up.exitCode === null) up.kill("SIGKILL");
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

describe("make up", () => {
  it("runs one process per service, plus nats-server", () => {
    // up.ts, five services and the nats-server it started (its own process group, found by its store).
    expect(pids.length).toBeGreaterThanOrEqual(SERVICE_NAMES.length + 1);
    expect(natsPids()).toHaveLength(1);
    for (const name of SERVICE_NAMES) expect(output).toContain(`127.0.0.1:${ports[name]}`);
  });

  it.each(readmeGrpcurlCommands())("answers the README's `%s`", async (command, expected) => {
    const line = withOrderId(withPorts(command, ports));
    if (command.includes("Ctrl-C")) {
      // A stream the README tells the reader to stop: it must show the order, then keep going until stopped.
      const first = await firstOutputOf(line);
      expect(first).toContain('"orderId"');
      return;
    }
    // A lookup of the order just placed may run before the saga has reached that service: a reader typing
    // the command would be a second later, so poll for success with a deadline rather than count on luck.
    const result = command.includes("<the orderId")
      ? await waitFor(async () => [await run(line)].find((r) => r.code === 0), {
          timeoutMs: 10_000,
          message: line,
        }).catch(() => run(line))
      : await run(line);
    rememberOrderId(result.stdout);
    if (expected.length === 0) {
      expect(result.code, result.stderr).toBe(0);
    } else {
      // The README shows the error this command gets: the same lines must appear.
      expect(result.code).not.toBe(0);
      for (const line of expected) expect(result.stderr).toContain(line);
    }
  });

  it("creates the README's order: APPROVAL_PENDING with total 1500", async () => {
    const create = readmeGrpcurlCommands().find(
      ([command]) => command.includes("CreateOrder") && command.includes('"quantity": 2'),
    );
    const { stdout } = await run(withPorts(create?.[0] ?? "false", ports));
    const { order } = JSON.parse(stdout);
    expect([order.state, order.total.minorUnits]).toEqual(["ORDER_STATE_APPROVAL_PENDING", "1500"]);
  });

  it("runs the README's curl walk-through through the gateway: approved, composed, mobile, cancelled, cached", async () => {
    const script = readmeShBlock("/api/v1/auth/token").replaceAll("127.0.0.1:8080", `127.0.0.1:${gatewayPort}`);
    const result = await run(`set -o pipefail\n${script}`);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain('"state":"APPROVED"'); // composed view (and the event stream)
    expect(result.stdout).toContain('"ticket":'); // composition: the kitchen's leg
    expect(result.stdout).toContain('"state":"CANCEL_PENDING"'); // the cancel
    expect(result.stdout.toLowerCase()).toContain("x-cache: miss"); // the menu, first read
  });

  it("stops everything on Ctrl-C (SIGINT), leaving no process behind", async () => {
    const tracked = [...pids, ...natsPids()];
    up.kill("SIGINT");
    await waitFor(() => up.exitCode !== null, { timeoutMs: 30_000, message: "make up did not exit after SIGINT" });
    expect(up.exitCode).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), {
      timeoutMs: 15_000,
      message: `still running: ${tracked.filter(alive).join(", ")}`,
    });
    expect(output).toContain("everything stopped");
  });
});

/** Every `grpcurl …` line of the README's sh blocks, with the `#   …` lines that follow it (its expected error). */
function readmeGrpcurlCommands(): [string, string[]][] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] ?? "").split("\n"));
  const commands: [string, string[]][] = [];
  for (const lines of blocks) {
    lines.forEach((line, i) => {
      if (!line.startsWith("grpcurl ")) return;
      const expected: string[] = [];
      for (let j = i + 1; lines[j]?.startsWith("#   "); j++) expected.push((lines[j] as string).slice(4).trim());
      commands.push([line, expected]);
    });
  }
  return commands;
}

/** The README's `<the orderId …>` placeholders stand for the id the last CreateOrder printed. */
let lastOrderId = "";
function rememberOrderId(stdout: string) {
  const match = /"orderId": "([^"]+)"/.exec(stdout);
  if (match && stdout.includes("APPROVAL_PENDING")) lastOrderId = match[1] as string;
}
function withOrderId(command: string): string {
  return command.replace(/<the orderId[^>]*>/g, lastOrderId);
}

/** Runs a streaming command until it prints something, then stops it as the reader would (Ctrl-C). */
async function firstOutputOf(command: string): Promise<string> {
  const child = spawn("bash", ["-c", `exec ${command}`], { env: shellEnv(), stdio: "pipe" });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  try {
    return await waitFor(() => (out.includes("}") ? out : undefined), {
      timeoutMs: 10_000,
      message: `no output from ${command}`,
    });
  } finally {
    child.kill("SIGINT");
  }
}

/** The README's sh block that contains `marker`, as one script. */
function readmeShBlock(marker: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").find((b) => b.includes(marker));
  if (!block) throw new Error(`no sh block with ${marker} in the README`);
  return block;
}

/** Runs a README line in bash, with the grpcurl that `make test` installed on PATH. */
function run(command: string) {
  return runShell(command, { timeoutMs: COMMAND_TIMEOUT_MS });
}

function processTree(pid: number): number[] {
  const children = pgrep(["-P", String(pid)]);
  return [pid, ...children.flatMap(processTree)];
}

function natsPids(): number[] {
  return pgrep(["-f", `nats-server.*${dataDir}`]);
}

function pgrep(args: string[]): number[] {
  try {
    return execFileSync("pgrep", args, { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
