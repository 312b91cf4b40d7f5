// `npm run trace -- <orderId>` (scripts/trace.ts), run as a reader runs it — its own process, started with
// tsx — against the databases of a mesh that ran the Create Order saga, once per SAGA_MODE: the
// orchestration's commands name their reply channel and each reply names the command that caused it, the
// orchestrator's saga ends APPROVED; the choreography's events answer nobody and keep no saga records.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { SAGA_MODES, type SagaMode } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Per saga mode: a mesh, and the id of an order it approved. */
const runs = new Map<SagaMode, { mesh: TestMesh; clients: MeshClients; orderId: string }>();

beforeAll(async () => {
  await Promise.all(
    SAGA_MODES.map(async (mode) => {
      const mesh = await startTestMesh({ SAGA_MODE: mode });
      const clients = meshClients(mesh);
      runs.set(mode, { mesh, clients, orderId: "" });
      const order = await placeOrderOverGrpc(clients, "c-1001", "r-1");
      await orderReaches(clients, order.orderId, new Set([OrderState.APPROVED]));
      runs.set(mode, { mesh, clients, orderId: order.orderId });
    }),
  );
});

afterAll(async () => {
  await Promise.all(
    [...runs.values()].map(async ({ mesh, clients }) => {
      clients.close();
      await mesh.stop();
    }),
  );
});

function run(mode: SagaMode) {
  const found = runs.get(mode);
  if (!found) throw new Error(`no ${mode} mesh`);
  return found;
}

/** Runs `npm run trace -- <args>` (without npm: the same tsx command) with only PATH, HOME and DATA_DIR. */
function trace(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/trace.ts", ...args],
      { cwd: ROOT, env, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * The rows of the table printed under the line starting with `title`, each as { column: cell }. The table is
 * aligned, so a cell is the text between its column's start and the next column's (names may hold a space).
 */
function table(output: string, title: string): Record<string, string>[] {
  const lines = output.split("\n");
  const at = lines.findIndex((line) => line.startsWith(title));
  if (at === -1) throw new Error(`no "${title}" in:\n${output}`);
  const columns = [...(lines[at + 1] ?? "").matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index }));
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(at + 2)) {
    if (line.trim() === "") break;
    rows.push(
      Object.fromEntries(
        columns.map(({ name, start }, i) => [name, line.slice(start, columns[i + 1]?.start ?? line.length).trim()]),
      ),
    );
  }
  return rows;
}

/** The trace of the order `mode`'s mesh approved, which must succeed, and its messages table. */
async function traceOfApprovedOrder(mode: SagaMode) {
  const { mesh, orderId } = run(mode);
  const { code, stdout, stderr } = await trace([orderId], mesh.dataDir);
  expect(code, stderr).toBe(0);
  return { orderId, stdout, messages: table(stdout, `messages for order ${orderId}`) };
}

/** The one row whose SUBJECT starts with `prefix`. */
function message(rows: Record<string, string>[], prefix: string): Record<string, string> {
  const matching = rows.filter((row) => row.SUBJECT?.startsWith(prefix));
  expect(matching, prefix).toHaveLength(1);
  return matching[0] as Record<string, string>;
}

describe("npm run trace", () => {
  it("orchestration: shows each command with its reply channel, each reply caused by its command, and the saga APPROVED", async () => {
    const { orderId, stdout, messages } = await traceOfApprovedOrder("orchestration");
    const verify = message(messages, "ftgo.consumer.command.verify_consumer.");
    expect([verify.SENDER, verify["REPLY TO"], verify.ID?.length]).toEqual(["order", "ftgo.order.reply", 8]);
    const verified = message(messages, "ftgo.order.reply.consumer_verified.");
    expect([verified.SENDER, verified["CAUSED BY"], verified["REPLY TO"]]).toEqual(["consumer", verify.ID, ""]);
    const authorize = message(messages, "ftgo.accounting.command.authorize_card.");
    expect(message(messages, "ftgo.order.reply.credit_card_authorized.")["CAUSED BY"]).toBe(authorize.ID);
    expect(messages.indexOf(verified)).toBeGreaterThan(messages.indexOf(verify)); // oldest first

    expect(table(stdout, `sagas of order ${orderId}`)).toEqual([
      {
        TYPE: "CreateOrderSaga",
        STATE: "APPROVED",
        STEP: "5",
        "PENDING COMMAND": "",
        DEADLINE: "",
        REASON: "",
        ENDED: "yes",
      },
    ]);
    const history = table(stdout, "saga history:");
    const approved = message(messages, "ftgo.order.reply.ticket_approved.");
    expect(history.at(-1)).toMatchObject({ SAGA: "CreateOrderSaga", "FROM → TO": "APPROVING_TICKET → APPROVED" });
    expect(history.at(-1)?.MESSAGE).toBe(approved.ID);
  });

  it("choreography: shows the events oldest first, each caused by the one it reacts to, and no saga", async () => {
    const { stdout, messages } = await traceOfApprovedOrder("choreography");
    const created = message(messages, "ftgo.order.event.order_created.");
    expect(messages[0]).toBe(created);
    expect(created.SENDER).toBe("order");
    expect(message(messages, "ftgo.consumer.event.consumer_verified.")["CAUSED BY"]).toBe(created.ID);
    expect(message(messages, "ftgo.kitchen.event.ticket_created.")["CAUSED BY"]).toBe(created.ID);
    const authorized = message(messages, "ftgo.accounting.event.credit_card_authorized.");
    expect(message(messages, "ftgo.order.event.order_approved.")["CAUSED BY"]).toBe(authorized.ID);
    expect(messages.map((row) => row["REPLY TO"])).toEqual(messages.map(() => ""));
    expect(stdout).not.toContain("sagas of order");
  });

  it("says so, and exits 1, for an order nobody sent a message about", async () => {
    const { mesh } = run("choreography");
    const { code, stdout, stderr } = await trace(["no-such-order"], mesh.dataDir);
    expect(code).toBe(1);
    expect(stderr).toContain(`no messages for order no-such-order in ${mesh.dataDir}: is DATA_DIR right?`);
    expect(stdout).toBe("");
  });

  it("says so, and exits 1, when DATA_DIR holds no service database", async () => {
    const empty = mkdtempSync(join(tmpdir(), "ftgo-trace-"));
    try {
      const { code, stderr } = await trace([run("choreography").orderId], empty);
      expect(code).toBe(1);
      expect(stderr).toContain(`no service database`);
      expect(stderr).toContain(`in ${empty}: is DATA_DIR right?`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("explains its usage, and exits 2, without an order id", async () => {
    const { code, stderr } = await trace([], run("choreography").mesh.dataDir);
    expect(code).toBe(2);
    expect(stderr).toContain("usage:");
  });
});
