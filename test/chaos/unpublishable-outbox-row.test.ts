// A row the broker will never take must not stop the saga. The issue's reproduction: one CreateOrder with
// a 1.1 MB consumer id was accepted, its OrderCreated failed at the broker ("max_payload size exceeded") on
// every attempt, and as the relay publishes in order, every later order stayed APPROVAL_PENDING, also
// after a restart. Now the contract refuses such an id (test/oversized-id.test.ts) and the outbox refuses
// an oversized message when it is written (packages/platform/test/messaging-outbox.test.ts); a row that
// got past both all the same (written by an older version, or for a broker with a bigger limit) is
// parked, as here: the orders behind it settle.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { checkHealth } from "@ftgo/harness/readiness.js";
import { sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { OUTBOX_HEALTH, openExistingDatabase } from "@ftgo/platform";
import { Client, credentials } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";

const fixture = useSagaMesh();
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

interface OutboxRow {
  message_id: string;
  subject: string;
  type: string;
  headers: string;
}

describe.sequential("an outbox message the broker will never take", () => {
  it("is parked when it got into the outbox all the same: the orders behind it settle, also after a restart", async () => {
    const { clients, dbs, mesh } = fixture;
    const warmUp = await placeOrderOverGrpc(clients, "c-1001");
    await sagasSettleInDatabases(dbs, [warmUp.orderId], { timeoutMs: 30_000, context: () => mesh.output() });

    // Order is down; an oversized OrderCreated for an order of its own sits at the head of its outbox.
    await mesh.order.kill("SIGKILL");
    const stuckOrder = `order-${randomUUID()}`;
    const stuckMessage = randomUUID();
    const writable = openExistingDatabase(mesh.database.location("order"));
    try {
      const model = writable
        .prepare<[string], OutboxRow>(
          "SELECT * FROM outbox WHERE correlation_id = ? AND type = 'ftgo.order.v1.OrderCreated'",
        )
        .get(warmUp.orderId) as OutboxRow;
      const headers = {
        ...(JSON.parse(model.headers) as Record<string, string>),
        "Ftgo-Message-Id": stuckMessage,
        "Ftgo-Correlation-Id": stuckOrder,
      };
      writable
        .prepare(
          `INSERT INTO outbox (message_id, subject, type, correlation_id, headers, payload, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          stuckMessage,
          model.subject,
          model.type,
          stuckOrder,
          JSON.stringify(headers),
          Buffer.alloc(1_153_433, 7),
          Date.now(),
        );
    } finally {
      writable.close();
    }
    await mesh.order.restart();

    const behind = await Promise.all([1, 2, 3].map(() => placeOrderOverGrpc(clients, "c-1001")));
    const sagas = await sagasSettleInDatabases(
      dbs,
      behind.map((order) => order.orderId),
      { timeoutMs: 30_000, context: () => mesh.output() },
    );
    expect(unexpectedOutcomes(sagas)).toEqual([]);
    const parked = () =>
      dbs.order.prepare("SELECT message_id, correlation_id, reason FROM outbox_parked").all() as {
        message_id: string;
        correlation_id: string;
        reason: string;
      }[];
    expect(parked()).toEqual([
      {
        message_id: stuckMessage,
        correlation_id: stuckOrder,
        reason: expect.stringMatching(
          /^ftgo\.order\.v1\.OrderCreated is \d+ bytes, over the broker's max_payload \d+$/,
        ),
      },
    ]);
    expect(dbs.order.prepare("SELECT count(*) AS n FROM outbox WHERE message_id = ?").get(stuckMessage)).toEqual({
      n: 0,
    });
    // Order serves on, and says its outbox needs a person (the gateway's /readyz lists it as degraded).
    expect(await healthOf(mesh.order.address, "")).toBe("SERVING");
    expect(await healthOf(mesh.order.address, OUTBOX_HEALTH)).toBe("NOT_SERVING");
    expect(await healthOf(mesh.kitchen.address, OUTBOX_HEALTH)).toBe("SERVING");

    const listed = await run(process.execPath, ["--import", "tsx", "scripts/dead-letters.ts", "parked"], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: mesh.dataDir, ...mesh.database.env },
    });
    expect(listed.stdout).toMatch(/^SERVICE\s+PARKED\s+TYPE\s+ORDER\s+MESSAGE\s+REASON\n/);
    expect(listed.stdout).toMatch(
      new RegExp(`order\\s.*ftgo\\.order\\.v1\\.OrderCreated\\s+${stuckOrder}\\s+${stuckMessage}`),
    );

    await mesh.order.restart();
    const afterRestart = await placeOrderOverGrpc(clients, "c-1001");
    await sagasSettleInDatabases(dbs, [afterRestart.orderId], { timeoutMs: 30_000, context: () => mesh.output() });
    expect(parked()).toHaveLength(1);
    expect(await healthOf(mesh.order.address, OUTBOX_HEALTH)).toBe("NOT_SERVING"); // parked rows survive it
    expect(mesh.crashes()).toEqual([]);
  }, 90_000);
});

/** The standard health check of the server at `address` for `service` ("": the whole server). */
async function healthOf(address: string, service: string): Promise<string> {
  const client = new Client(address, credentials.createInsecure());
  try {
    return await checkHealth(client, service);
  } finally {
    client.close();
  }
}
