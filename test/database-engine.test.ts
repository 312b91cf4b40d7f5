// The engine a mesh runs on is the one asked for: in the `postgres` project of vitest.config.ts every service
// of a process mesh keeps its data in its own schema of the mesh's PostgreSQL server, and writes no SQLite
// file; in the `sqlite` project, in its file. The saga and chaos suites of that project prove the patterns on
// it only if this holds.
import { readdirSync } from "node:fs";
import { sagasSettleInDatabases } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { testDatabaseEngine } from "@ftgo/harness/test-database.js";
import { openExistingDatabase, SERVICE_NAMES } from "@ftgo/platform";
import { describe, expect, it } from "vitest";

describe(`a process mesh on ${testDatabaseEngine()}`, () => {
  const fixture = useSagaMesh();

  it("keeps every service's data where the run's engine says, and nowhere else", async () => {
    const { clients, dbs, mesh } = fixture;
    expect(mesh.database.engine).toBe(testDatabaseEngine());
    const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
    await sagasSettleInDatabases(dbs, [orderId], { timeoutMs: 30_000, context: () => mesh.output() });
    for (const name of SERVICE_NAMES) {
      const where = mesh.database.location(name);
      expect(where.engine, name).toBe(mesh.database.engine);
      const db = openExistingDatabase(where, { readonly: true });
      try {
        expect(db.engine).toBe(mesh.database.engine);
        expect(db.prepare("SELECT count(*) FROM processed_messages").pluck().get(), name).toBeGreaterThanOrEqual(0);
      } finally {
        db.close();
      }
    }
    const order = openExistingDatabase(mesh.database.location("order"), { readonly: true });
    try {
      expect(order.prepare("SELECT state FROM orders WHERE order_id = ?").pluck().get(orderId)).toBe("APPROVED");
    } finally {
      order.close();
    }
    const files = readdirSync(mesh.dataDir).filter((file) => file.endsWith(".db"));
    if (mesh.database.engine === "postgres") expect(files).toEqual([]);
    else expect(files.sort()).toEqual(SERVICE_NAMES.map((name) => `${name}.db`).sort());
  });
});
