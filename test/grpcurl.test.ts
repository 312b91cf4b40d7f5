// The grpcurl commands of README.md and docs/contracts.md, run with the same arguments (but for the port)
// against the real services, in process; test/make-up.test.ts runs the pages' own lines against `make up`.
import { grpcurl } from "@ftgo/harness/grpcurl.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { SERVICE_NAMES } from "@ftgo/platform/roster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPage } from "./doc-blocks.js";

let mesh: TestMesh;
beforeAll(async () => {
  mesh = await startTestMesh();
});
afterAll(() => mesh?.stop());

/** Each service's own API; Order serves v2 and, deprecated, v1 beside it. */
const DOMAIN_SERVICES = {
  order: ["ftgo.order.v1.OrderService", "ftgo.order.v2.OrderService"],
  consumer: ["ftgo.consumer.v1.ConsumerService"],
  kitchen: ["ftgo.kitchen.v1.KitchenService"],
  accounting: ["ftgo.accounting.v1.AccountingService"],
  delivery: ["ftgo.delivery.v1.DeliveryService"],
} as const;

/** The arguments the tests below run, as the pages show them. */
const DOCUMENTED: [page: string, text: string][] = [
  ["docs/contracts.md", "grpcurl -plaintext 127.0.0.1:50051 list"],
  ["docs/contracts.md", "grpcurl -plaintext 127.0.0.1:50051 describe ftgo.order.v1.OrderService"],
  ["docs/contracts.md", "grpcurl -plaintext 127.0.0.1:50054 grpc.health.v1.Health/Check"],
  [
    "docs/contracts.md",
    `'{"consumerId": "c-1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 0}]}'`,
  ],
  ["docs/contracts.md", "#   Code: InvalidArgument"],
  [
    "docs/contracts.md",
    `'{"consumerId": "c 1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 1}]}'`,
  ],
  [
    "docs/contracts.md",
    "#   Message: consumer_id: does not match regex pattern `^[A-Za-z0-9][A-Za-z0-9_.:-]*$` [string.pattern]",
  ],
  [
    "README.md",
    `grpcurl -plaintext -d '{"restaurantId": "r-1"}' 127.0.0.1:50053 ftgo.kitchen.v1.KitchenService/GetMenu`,
  ],
  [
    "README.md",
    `'{"consumerId": "c-1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 2}, {"menuItemId": "m-3", "quantity": 1}]}'`,
  ],
];

describe("grpcurl against every service", () => {
  it.each(DOCUMENTED)("runs what %s shows: %s", (page, text) => {
    expect(readPage(page)).toContain(text);
  });

  it.each(SERVICE_NAMES)("lists the %s domain services, health, reflection and the admin API", async (name) => {
    const { code, stdout, stderr } = await grpcurl("-plaintext", mesh[name].address, "list");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.trim().split("\n").sort()).toEqual(
      [
        ...DOMAIN_SERVICES[name],
        "ftgo.admin.v1.AdminService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ].sort(),
    );
  });

  it("describes OrderService from the served descriptors, comments included", async () => {
    const { code, stdout } = await grpcurl("-plaintext", mesh.order.address, "describe", "ftgo.order.v1.OrderService");
    expect(code).toBe(0);
    expect(stdout).toContain(
      "rpc CreateOrder ( .ftgo.order.v1.CreateOrderRequest ) returns ( .ftgo.order.v1.CreateOrderResponse )",
    );
    expect(stdout).toContain(
      "rpc WatchOrder ( .ftgo.order.v1.WatchOrderRequest ) returns ( stream .ftgo.order.v1.WatchOrderResponse )",
    );
  });

  it("describes both versions of OrderService, v1 marked deprecated", async () => {
    const v2 = await grpcurl("-plaintext", mesh.order.address, "describe", "ftgo.order.v2.OrderService");
    expect(v2.code).toBe(0);
    expect(v2.stdout).toContain(
      "rpc CreateOrder ( .ftgo.order.v2.CreateOrderRequest ) returns ( .ftgo.order.v2.CreateOrderResponse ) {",
    );
    expect(v2.stdout).toContain("option idempotency_level = IDEMPOTENT;");
    expect(v2.stdout).not.toContain("option deprecated = true;");
    const v1 = await grpcurl("-plaintext", mesh.order.address, "describe", "ftgo.order.v1.OrderService");
    expect(v1.stdout).toContain("option deprecated = true;");
    const message = await grpcurl("-plaintext", mesh.order.address, "describe", "ftgo.order.v2.Delivery");
    expect(message.code).toBe(0);
    expect(message.stdout).toContain(".ftgo.common.v1.Address address = 1");
  });

  it.each(["ftgo.order.v1.OrderService", "ftgo.order.v2.OrderService"])(
    "reports %s SERVING on the standard health check",
    async (service) => {
      const { code, stdout, stderr } = await grpcurl(
        "-plaintext",
        "-d",
        JSON.stringify({ service }),
        mesh.order.address,
        "grpc.health.v1.Health/Check",
      );
      expect([code, stderr]).toEqual([0, ""]);
      expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
    },
  );

  it("calls KitchenService/GetMenu with JSON and gets the seed menu", async () => {
    const { code, stdout } = await grpcurl(
      "-plaintext",
      "-d",
      '{"restaurantId": "r-1"}',
      mesh.kitchen.address,
      "ftgo.kitchen.v1.KitchenService/GetMenu",
    );
    expect(code).toBe(0);
    const menu = JSON.parse(stdout);
    expect(menu.restaurant).toEqual({ restaurantId: "r-1", name: "Pho Hanoi", open: true });
    expect(
      menu.menuItems.map((i: { menuItemId: string; price: { minorUnits: string } }) => [
        i.menuItemId,
        i.price.minorUnits,
      ]),
    ).toEqual([
      ["m-1", "650"],
      ["m-2", "300"],
      ["m-3", "200"],
    ]);
  });

  it("creates an order with JSON: c-1001 at r-1, 2× m-1 + 1× m-3 → APPROVAL_PENDING, total 1500", async () => {
    const { code, stdout } = await grpcurl(
      "-plaintext",
      "-d",
      '{"consumerId": "c-1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 2}, {"menuItemId": "m-3", "quantity": 1}]}',
      mesh.order.address,
      "ftgo.order.v1.OrderService/CreateOrder",
    );
    expect(code).toBe(0);
    const { order } = JSON.parse(stdout);
    expect(order.state).toBe("ORDER_STATE_APPROVAL_PENDING");
    expect(order.total).toEqual({ currencyCode: "USD", minorUnits: "1500" });
  });

  it("shows a bad request's status code and the field it names", async () => {
    const { code, stderr } = await grpcurl(
      "-plaintext",
      "-d",
      '{"consumerId": "c-1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 0}]}',
      mesh.order.address,
      "ftgo.order.v1.OrderService/CreateOrder",
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain("Code: InvalidArgument");
    expect(stderr).toContain(
      "line_items[0].quantity: must be greater than or equal to 1 and less than or equal to 100 [int32.gte_lte]",
    );
  });

  it("names the field and the rule of a limit the contract declares", async () => {
    const { code, stderr } = await grpcurl(
      "-plaintext",
      "-d",
      '{"consumerId": "c 1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 1}]}',
      mesh.order.address,
      "ftgo.order.v1.OrderService/CreateOrder",
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain("Code: InvalidArgument");
    expect(stderr).toContain(
      "consumer_id: does not match regex pattern `^[A-Za-z0-9][A-Za-z0-9_.:-]*$` [string.pattern]",
    );
  });

  it("reports SERVING on the standard health check", async () => {
    const { code, stdout } = await grpcurl("-plaintext", mesh.accounting.address, "grpc.health.v1.Health/Check");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });
});
