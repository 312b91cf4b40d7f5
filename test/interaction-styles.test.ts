// docs/interaction-styles.md promises that every command it shows runs as shown against `make up`. This test
// keeps that promise: it runs every ```sh block of the page in bash, verbatim except for the ports (the
// documented 5005x become this run's free ones), against real service processes and a real nats-server —
// one mesh per saga mode, since a block that says `needs: SAGA_MODE=orchestration make up` needs that mesh —
// with three couriers answering quotes, as `make up` runs them. The page's helpers block (`# Paste once`) is
// pasted before every other block, as the page tells a reader to. A block fenced as ```sh live (none today)
// would be left out: it does not finish by itself.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningCourier } from "@ftgo/courier";
import { SAGA_MODES, type SagaMode } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCourier } from "./support/couriers.js";
import { findGrpcurl } from "./support/grpcurl.js";
import { SERVICE_NAMES, type ServiceInstance, type ServiceName, startService } from "./support/processes.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAGE = readFileSync(new URL("../docs/interaction-styles.md", import.meta.url), "utf8");
const DOCUMENTED_PORTS: Record<ServiceName, number> = {
  order: 50051,
  consumer: 50052,
  kitchen: 50053,
  accounting: 50054,
  delivery: 50055,
};
/** The couriers `make up` runs (scripts/up.ts). */
const COURIERS = [
  { id: "courier-1", minutes: 25, price: 450 },
  { id: "courier-2", minutes: 18, price: 650 },
  { id: "courier-3", minutes: 18, price: 550 },
];
const BLOCK_TIMEOUT_MS = 60_000;

/** Every runnable block of the page with its section's heading: ```sh blocks only (```sh live is not matched). */
const BLOCKS = [...PAGE.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => ({
  section: [...PAGE.slice(0, m.index).matchAll(/^## (.+)$/gm)].at(-1)?.[1] ?? "(top)",
  block: m[1] ?? "",
}));
const HELPERS = BLOCKS.find(({ block }) => block.includes("# Paste once"))?.block ?? "";
const EXAMPLES = BLOCKS.filter(({ block }) => block !== HELPERS);

/** What each example must print besides exiting 0, found by a command it contains. First match wins. */
const EXPECTED_OUTPUT: [marker: string, output: string[]][] = [
  ["SAGA_MODE=orchestration", ["ftgo.consumer.command.verify_consumer", "ftgo.order.reply", "'APPROVED'"]],
  ["DELIVERY_STATE_SCHEDULED", ["DELIVERY_STATE_SCHEDULED", '"courierId": "courier-', '"quotes"']],
  ["KitchenService/AcceptTicket", ["TICKET_STATE_ACCEPTED", "ftgo.delivery.command.schedule_delivery"]],
  ["WatchTickets", ['"openTickets"', "kitchen display of restaurant r-1", "3× Banh mi"]],
  ["WatchOrder", ["ORDER_STATE_REJECTED", "consumer c-1003 is suspended", "ORDER_STATE_APPROVED"]],
  ["messages ", ["ftgo.order.event.order_created", "ftgo.consumer.event.consumer_verified", "order_approved"]],
  ["KitchenService/GetMenu", ['"name": "Pho bo"', "ORDER_STATE_APPROVAL_PENDING", '"minorUnits": "1500"']],
];

interface Mesh {
  readonly nats: NatsServerHandle;
  readonly dataDir: string;
  readonly services: Record<ServiceName, ServiceInstance>;
  readonly couriers: RunningCourier[];
}

const meshes = new Map<SagaMode, Mesh>();
let grpcurlDir: string | undefined;
try {
  grpcurlDir = dirname(findGrpcurl());
} catch (err) {
  console.warn(`test/interaction-styles.test.ts skipped: ${(err as Error).message}`);
}

/** The mesh `SAGA_MODE=<mode> make up` runs: every service its own process, one nats-server, three couriers. */
async function startMesh(mode: SagaMode, dataDir: string): Promise<Mesh> {
  const nats = await startNatsServer();
  const started: ServiceInstance[] = [];
  const couriers: RunningCourier[] = [];
  try {
    for (const instance of await Promise.all(
      SERVICE_NAMES.map((name) => startService({ name, dataDir, natsUrl: nats.url, env: { SAGA_MODE: mode } })),
    ))
      started.push(instance);
    couriers.push(...(await Promise.all(COURIERS.map((terms) => startTestCourier(nats.url, terms)))));
  } catch (err) {
    await stopMesh({ nats, dataDir, services: {} as Mesh["services"], couriers }, started);
    throw err;
  }
  const services = Object.fromEntries(started.map((service) => [service.name, service])) as Mesh["services"];
  return { nats, dataDir, services, couriers };
}

async function stopMesh(mesh: Mesh, services = Object.values(mesh.services)): Promise<void> {
  await Promise.allSettled(mesh.couriers.map((courier) => courier.stop()));
  await Promise.allSettled(services.map((service) => service.stop()));
  await mesh.nats.stop();
}

beforeAll(async () => {
  if (!grpcurlDir) return;
  await Promise.all(
    SAGA_MODES.map(async (mode) => {
      meshes.set(mode, await startMesh(mode, mkdtempSync(join(tmpdir(), `ftgo-styles-${mode}-`))));
    }),
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(
    [...meshes.values()].map(async (mesh) => {
      await stopMesh(mesh);
      rmSync(mesh.dataDir, { recursive: true, force: true });
    }),
  );
}, 60_000);

describe.skipIf(!grpcurlDir)("docs/interaction-styles.md", () => {
  it("has a helpers block and a runnable block for every interaction style", () => {
    expect(HELPERS).toContain("messages()");
    for (const [marker] of EXPECTED_OUTPUT)
      expect(
        EXAMPLES.some(({ block }) => block.includes(marker)),
        marker,
      ).toBe(true);
  });

  it.each(EXAMPLES.map(({ section, block }) => [section, firstCommand(block), block]))(
    "%s: runs `%s` as documented",
    async (_, _command, block) => {
      const mode: SagaMode = block.includes("SAGA_MODE=orchestration") ? "orchestration" : "choreography";
      const mesh = meshes.get(mode);
      if (!mesh) throw new Error(`no ${mode} mesh`);
      const result = await runShell(`set -euo pipefail\n${HELPERS}\n${withPorts(block, mesh)}`, mesh);
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      const expected = EXPECTED_OUTPUT.find(([marker]) => block.includes(marker))?.[1] ?? [];
      for (const text of expected) expect(result.stdout, result.stdout).toContain(text);
    },
    BLOCK_TIMEOUT_MS + 10_000,
  );
});

/** The block's first command line, to name its test. */
function firstCommand(block: string): string {
  const line = block.split("\n").find((l) => l.trim() && !l.startsWith("#")) ?? block;
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

/** The page uses the documented ports; this run uses free ones. */
function withPorts(block: string, mesh: Mesh): string {
  let result = block;
  for (const name of SERVICE_NAMES) {
    result = result.replaceAll(`127.0.0.1:${DOCUMENTED_PORTS[name]}`, mesh.services[name].address);
  }
  return result;
}

/**
 * Runs a script in bash from the repository root, as a reader's shell would: grpcurl on PATH, DATA_DIR at the
 * mesh's databases (the page's helpers read it, as `make up` does), KITCHEN_ADDR at its Kitchen (the kitchen
 * display's only setting). Kills the script's process group if it outlives the timeout.
 */
function runShell(script: string, mesh: Mesh): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    PATH: `${grpcurlDir}:${process.env.PATH}`,
    DATA_DIR: mesh.dataDir,
    KITCHEN_ADDR: mesh.services.kitchen.address,
  };
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn("bash", ["-c", script], { cwd: ROOT, env, stdio: "pipe", detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${BLOCK_TIMEOUT_MS} ms)`;
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, BLOCK_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
