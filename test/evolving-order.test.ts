// docs/evolving-order.md promises that its grpcurl calls run as shown against a running Order: this test runs
// every ```sh block of the page in bash, verbatim but for the ports (the documented 5005x become this run's
// free ones), against the real services in process, and checks what the page says each one shows.
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { runShell, withPorts } from "@ftgo/harness/docs-shell.js";
import { findGrpcurl } from "@ftgo/harness/grpcurl.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import { SERVICE_NAMES, type ServiceName } from "@ftgo/platform/roster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock, shBlocks } from "./doc-blocks.js";

const PAGE = "docs/evolving-order.md";
const LIST_BLOCK = "describe ftgo.order.v2.OrderService";
const CREATE_BLOCK = "evolving-order-1";

let mesh: TestMesh;
let ports: Record<ServiceName, number>;

beforeAll(async () => {
  findGrpcurl(); // no grpcurl fails the suite rather than skipping it: the page's commands need it
  mesh = await startTestMesh();
  ports = Object.fromEntries(SERVICE_NAMES.map((name) => [name, mesh[name].port])) as Record<ServiceName, number>;
});
afterAll(() => mesh?.stop());

const run = (line: string) => runShell(withPorts(line, ports), { timeoutMs: 20_000 });

describe(PAGE, () => {
  it("has exactly the blocks this test runs", () => {
    expect(shBlocks(PAGE).map((block) => block.text)).toEqual([
      shBlock(PAGE, LIST_BLOCK).text,
      shBlock(PAGE, CREATE_BLOCK).text,
    ]);
  });

  it("lists, describes and health-checks both versions on Order's port", async () => {
    const result = await run(`set -euo pipefail\n${shBlock(PAGE, LIST_BLOCK).text}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ftgo\.order\.v1\.OrderService$/m);
    expect(result.stdout).toMatch(/^ftgo\.order\.v2\.OrderService$/m);
    expect(result.stdout).toContain("option idempotency_level = IDEMPOTENT;");
    expect(result.stdout.match(/"status": "SERVING"/g)).toHaveLength(2);
  });

  it("creates through v2, reads through v1 without v2's fields, repeats, and refuses the key with another request", async () => {
    const [create, readV1, repeat, misuse, ...rest] = commandsOf(shBlock(PAGE, CREATE_BLOCK));
    expect(rest).toEqual([]);

    const created = await run(create?.line ?? "false");
    expect(created.code, created.stderr).toBe(0);
    const { order } = JSON.parse(created.stdout);
    expect(order).toMatchObject({
      idempotencyKey: "evolving-order-1",
      state: "ORDER_STATE_APPROVAL_PENDING",
      priceSource: "PRICE_SOURCE_CURRENT_MENU",
      delivery: { address: { street1: "1 Main St" }, deliverAt: "2030-01-01T18:30:00Z" },
    });
    expect(order.lineItems[0].specialInstructions).toBe("no peanuts");

    const read = await run((readV1?.line ?? "false").replace("<the orderId it printed>", order.orderId));
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).order).toMatchObject({ orderId: order.orderId, total: { minorUnits: "1500" } });
    for (const v2Only of [
      "idempotencyKey",
      "delivery",
      "specialInstructions",
      "priceSource",
      "pricedFromLastKnownMenu",
    ]) {
      expect(read.stdout).not.toContain(v2Only);
    }

    const repeated = await run(repeat?.line ?? "false");
    expect(repeated.code, repeated.stderr).toBe(0);
    expect(JSON.parse(repeated.stdout).order.orderId).toBe(order.orderId);

    const refused = await run(misuse?.line ?? "false");
    expect(refused.code).not.toBe(0);
    expect(misuse?.expectedError).toHaveLength(2);
    for (const text of misuse?.expectedError ?? []) expect(refused.stderr).toContain(text);

    // One order for the key, whatever was asked of it.
    const transport = createGrpcTransport({ address: mesh.order.address });
    try {
      const { orders } = await createGrpcClient(OrderServiceV2, transport).listOrders({ consumerId: "c-1001" });
      expect(orders.filter((o) => o.idempotencyKey === "evolving-order-1").map((o) => o.orderId)).toEqual([
        order.orderId,
      ]);
    } finally {
      transport.close();
    }
  });
});
