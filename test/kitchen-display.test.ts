// The kitchen display CLI (scripts/kitchen-display.ts), run as a reader would run it — its own process,
// started with tsx — against a running mesh: it shows the tickets that arrive after it connected, names an
// unknown restaurant, and stops cleanly on Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

let mesh: TestMesh;
let clients: MeshClients;
const displays: ChildProcess[] = [];

beforeAll(async () => {
  mesh = await startTestMesh();
  clients = meshClients(mesh);
});
afterEach(() => {
  for (const display of displays.splice(0)) if (display.exitCode === null) display.kill("SIGKILL");
});
afterAll(async () => {
  clients?.close();
  await mesh?.stop();
});

/** Starts `npm run kitchen-display -- <args>` (without npm: the same tsx command) against the mesh's Kitchen. */
function startDisplay(...args: string[]) {
  // Only what it needs: the test runner's own variables (NODE_OPTIONS, VITEST_*) must not reach it.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KITCHEN_ADDR: mesh.kitchen.address };
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/kitchen-display.ts", ...args], {
    cwd: ROOT,
    env,
    stdio: "pipe",
  });
  displays.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Waits until its output contains `text`; on timeout the message shows what it printed instead. */
    shows: (text: string) =>
      waitFor(() => stdout.includes(text), {
        timeoutMs: 15_000,
        message: () => `the display to show "${text}"; it printed:\n${stdout}${stderr}`,
      }),
  };
}

describe("npm run kitchen-display", () => {
  it("shows a ticket that reaches the restaurant after it connected, then stops on Ctrl-C", async () => {
    const display = startDisplay("r-1");
    await display.shows("waiting for new ones"); // connected: the open tickets are listed, the stream is live

    const order = await placeOrderOverGrpc(clients, "c-1001", "r-1");
    await display.shows(order.orderId);
    const line = display
      .stdout()
      .split("\n")
      .find((l) => l.includes(order.orderId));
    expect(line).toMatch(/^\d\d:\d\d:\d\d {2}\S+ {2}AWAITING_ACCEPTANCE {2}2× Pho bo, 1× Ca phe sua da$/);

    await clients.kitchen.acceptTicket({ orderId: order.orderId });
    await display.shows(`${order.orderId}  ACCEPTED`);

    display.child.kill("SIGINT");
    expect(await display.exited).toBe(0);
    expect(display.stderr()).toBe("");
  });

  it("takes the restaurant as --restaurant too", async () => {
    const display = startDisplay("--restaurant", "r-1");
    await display.shows("kitchen display of restaurant r-1");
    await display.shows("waiting for new ones");
    display.child.kill("SIGINT");
    expect(await display.exited).toBe(0);
  });

  it("says so, and exits 1, when the restaurant does not exist", async () => {
    const display = startDisplay("r-9");
    expect(await display.exited).toBe(1);
    expect(display.stderr()).toContain("NotFound: restaurant r-9 not found");
  });

  it("explains its usage, and exits 2, without a restaurant", async () => {
    const display = startDisplay();
    expect(await display.exited).toBe(2);
    expect(display.stderr()).toContain("usage:");
  });
});
