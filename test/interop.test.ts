// A stock gRPC client that shares nothing with ftgo-mesh but the .proto files: @grpc/grpc-js with
// @grpc/proto-loader reading proto/ at run time. If this passes, a client in any language can call us.
import { fileURLToPath } from "node:url";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PROTO_ROOT = fileURLToPath(new URL("../proto", import.meta.url));

type Callback = (err: grpc.ServiceError | null, response?: Record<string, unknown>) => void;
type StockClient = grpc.Client & Record<string, (request: object, callback: Callback) => void>;

let mesh: TestMesh;
let orders: StockClient;
let kitchen: StockClient;

beforeAll(async () => {
  mesh = await startTestMesh();
  const definition = protoLoader.loadSync(["ftgo/order/v1/order.proto", "ftgo/kitchen/v1/kitchen.proto"], {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    ftgo: {
      order: { v1: Record<string, grpc.ServiceClientConstructor> };
      kitchen: { v1: Record<string, grpc.ServiceClientConstructor> };
    };
  };
  const OrderService = loaded.ftgo.order.v1.OrderService as grpc.ServiceClientConstructor;
  const KitchenService = loaded.ftgo.kitchen.v1.KitchenService as grpc.ServiceClientConstructor;
  orders = new OrderService(mesh.order.address, grpc.credentials.createInsecure()) as unknown as StockClient;
  kitchen = new KitchenService(mesh.kitchen.address, grpc.credentials.createInsecure()) as unknown as StockClient;
});

afterAll(async () => {
  orders?.close();
  kitchen?.close();
  await mesh?.stop();
});

function call(client: StockClient, method: string, request: object) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    client[method]?.(request, (err, response) => (err ? reject(err) : resolve(response ?? {})));
  });
}

describe("a stock @grpc/proto-loader client", () => {
  it("creates an order and reads it back", async () => {
    const created = (await call(orders, "CreateOrder", {
      consumer_id: "c-1001",
      restaurant_id: "r-1",
      line_items: [
        { menu_item_id: "m-1", quantity: 2 },
        { menu_item_id: "m-3", quantity: 1 },
      ],
    })) as { order: { order_id: string; state: string; total: { minor_units: string } } };
    expect(created.order.state).toBe("ORDER_STATE_APPROVAL_PENDING");
    expect(created.order.total.minor_units).toBe("1500");
    const read = (await call(orders, "GetOrder", { order_id: created.order.order_id })) as typeof created;
    expect(read.order.order_id).toBe(created.order.order_id);
  });

  it("gets gRPC status codes and messages, not transport errors", async () => {
    const err = await call(kitchen, "GetMenu", { restaurant_id: "r-404" }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((err as grpc.ServiceError).details).toBe("restaurant r-404 not found");
  });
});
