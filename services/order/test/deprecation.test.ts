// v1 is deprecated and still served: Order notes each v1 client once in its log (a warning naming the
// client and the successor), not each call, and remembers a bounded number of clients.
import { randomUUID } from "node:crypto";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport as createConnectTransport } from "@connectrpc/connect-node";
import { OrderService as OrderServiceV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport } from "@ftgo/platform";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeprecationNotes } from "../src/v1/deprecation.js";
import { useOrderService } from "./order-fixture.js";

const NOTE = "deprecated API called: move this client to ftgo.order.v2.OrderService";

/** A logger whose JSON lines the test reads, and the deprecation notes among them. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const notes = () => lines.filter((line) => line.msg === NOTE).map(({ client, method }) => ({ client, method }));
  return { log, notes };
}

describe("createDeprecationNotes", () => {
  const headers = (userAgent: string) => new Headers({ "user-agent": userAgent });

  it("notes a client once, whichever v1 methods it calls", () => {
    const { log, notes } = captureLogs();
    const note = createDeprecationNotes({ log, successor: "ftgo.order.v2.OrderService" });
    note("ftgo.order.v1.OrderService/GetOrder", headers("grpcurl/1.9.3 grpc-go/1.61.0"));
    note("ftgo.order.v1.OrderService/CreateOrder", headers("grpcurl/1.9.3 grpc-go/1.61.0"));
    note("ftgo.order.v1.OrderService/GetOrder", headers("grpc-node-js/1.14.7"));
    note("ftgo.order.v1.OrderService/GetOrder", new Headers());
    expect(notes()).toEqual([
      { client: "grpcurl/1.9.3 grpc-go/1.61.0", method: "ftgo.order.v1.OrderService/GetOrder" },
      { client: "grpc-node-js/1.14.7", method: "ftgo.order.v1.OrderService/GetOrder" },
      { client: "unknown", method: "ftgo.order.v1.OrderService/GetOrder" },
    ]);
  });

  it("remembers at most `rememberedClients` clients, forgetting the one noted longest ago", () => {
    const { log, notes } = captureLogs();
    const note = createDeprecationNotes({ log, successor: "ftgo.order.v2.OrderService", rememberedClients: 2 });
    for (const client of ["a/1", "b/1", "a/1", "c/1", "b/1", "a/1"]) note("m", headers(client));
    // a, b: noted. a: remembered. c: noted, a forgotten. b: remembered. a: noted again, b forgotten.
    expect(notes().map((n) => n.client)).toEqual(["a/1", "b/1", "c/1", "a/1"]);
  });

  it("keeps only the first 200 characters of a client's name", () => {
    const { log, notes } = captureLogs();
    const note = createDeprecationNotes({ log, successor: "ftgo.order.v2.OrderService" });
    note("m", headers("x".repeat(10_000)));
    note("m", headers(`${"x".repeat(200)}y`)); // the same client, as far as 200 characters tell
    expect(notes().map((n) => String(n.client).length)).toEqual([200]);
  });
});

describe("Order Service's v1 handlers", () => {
  const { log, notes } = captureLogs();
  const fixture = useOrderService(log);
  let transport: GrpcTransport;
  let grpcNode: Client<typeof OrderServiceV1>;
  let v2: Client<typeof OrderServiceV2>;
  let connectEs: Client<typeof OrderServiceV1>;

  beforeAll(() => {
    transport = createGrpcTransport({ address: fixture.order.address });
    grpcNode = createGrpcClient(OrderServiceV1, transport);
    v2 = createGrpcClient(OrderServiceV2, transport);
    connectEs = createClient(OrderServiceV1, createConnectTransport({ baseUrl: `http://${fixture.order.address}` }));
  });
  afterAll(() => transport?.close());

  it("notes each v1 client once, by its user-agent, and v2 calls not at all", async () => {
    const placed = await grpcNode.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
    });
    const orderId = placed.order?.orderId ?? "";
    await grpcNode.getOrder({ orderId });
    await v2.getOrder({ orderId });
    await v2.createOrder({
      idempotencyKey: randomUUID(),
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
      delivery: { address: { street1: "1 Main St", city: "Oakland", postalCode: "94611" } },
    });
    expect(notes()).toEqual([
      { client: expect.stringMatching(/^grpc-node-js\//), method: "ftgo.order.v1.OrderService/CreateOrder" },
    ]);

    await connectEs.getOrder({ orderId });
    await connectEs.listOrders({ consumerId: "c-1001" });
    await grpcNode.listOrders({ consumerId: "c-1001" });
    expect(notes()).toEqual([
      { client: expect.stringMatching(/^grpc-node-js\//), method: "ftgo.order.v1.OrderService/CreateOrder" },
      { client: expect.stringMatching(/^connect-es\//), method: "ftgo.order.v1.OrderService/GetOrder" },
    ]);
  });
});
