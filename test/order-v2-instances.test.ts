// Scaled out, as `instances: { order: 2 }` runs it: two Order processes on one database. A client that
// repeats v2 CreateOrder with one key may reach either; repeats that reach both at once still make one
// order, one saga and one charge, because each instance checks the key again inside a write transaction
// that waits for the other's commit.
import { randomUUID } from "node:crypto";
import { orderV2Client } from "@ftgo/harness/order-v2-client.js";
import { auditSagas } from "@ftgo/harness/saga-audit.js";
import { sagasSettleInDatabases } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { placeOrderOverGrpcV2 as placeOrder } from "@ftgo/harness/saga-over-grpc.js";
import { describe, expect, it } from "vitest";

const KEYS = 20;

describe("v2 CreateOrder on two instances of Order", () => {
  const fixture = useSagaMesh({ instances: { order: 2 } });

  it(`creates one order per key when ${KEYS} keys each reach both instances at once`, async () => {
    const { mesh, dbs } = fixture;
    const clients = mesh.instances.order.map((instance) => orderV2Client(instance.address));
    try {
      expect(clients).toHaveLength(2);
      const keys = Array.from({ length: KEYS }, () => `k-${randomUUID()}`);
      const answers = await Promise.all(
        keys.map((idempotencyKey) =>
          Promise.all(clients.map((client) => placeOrder(client.orders, "c-1001", { idempotencyKey }))),
        ),
      );
      for (const [a, b] of answers) expect(a?.orderId).toBe(b?.orderId);

      const orderIds = answers.map(([a]) => a?.orderId ?? "");
      const perKey = dbs.order
        .prepare<string[], { n: number }>(
          `SELECT count(*) AS n FROM orders WHERE idempotency_key IN (${keys.map(() => "?").join(",")}) GROUP BY idempotency_key`,
        )
        .all(...keys);
      expect(perKey.map((row) => row.n)).toEqual(keys.map(() => 1));
      const created = dbs.order
        .prepare<string[], { n: number }>(
          `SELECT count(*) AS n FROM outbox WHERE type = 'ftgo.order.v1.OrderCreated'
           AND correlation_id IN (${orderIds.map(() => "?").join(",")})`,
        )
        .get(...orderIds);
      expect(created?.n).toBe(KEYS);

      await sagasSettleInDatabases(dbs, orderIds, { context: () => mesh.output() });
      const report = auditSagas(dbs, orderIds);
      expect(report.violations).toEqual([]);
      expect(report.counts).toMatchObject({ orders: KEYS, approved: KEYS, doubleCharges: 0 });
    } finally {
      for (const client of clients) client.close();
    }
  });
});
