// Old clients keep working, proven with old code. Every client here is built from release v1.0.0's image
// (old-clients-contract.ts), not from today's gen/: connect-es's createClient with the released service
// descriptors, over connect-node's gRPC transport (HTTP/2, the protocol any gRPC client speaks), calling
// today's services on real sockets. If today's contract had moved a field, renumbered an enum value or
// dropped an RPC of v1, these clients would misread or fail, as a client shipped last year would.
import {
  type DescMethod,
  type DescMethodStreaming,
  type DescMethodUnary,
  type DescService,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  OrderSchema as OrderSchemaToday,
  OrderService as OrderServiceToday,
} from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { UnreleasedTypeError } from "@ftgo/harness/released-contract.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConsumerService,
  KitchenService,
  type Order,
  OrderSchema,
  OrderService,
  RELEASE,
} from "./old-clients-contract.js";

let mesh: TestMesh;
let today: MeshClients;
/** One HTTP/2 connection per server, as a client process would keep, shared by the old clients of the file. */
const transports = new Map<string, { transport: Transport; session: Http2SessionManager }>();

beforeAll(async () => {
  mesh = await startTestMesh();
  today = meshClients(mesh);
});
afterAll(async () => {
  // The old clients' connections are closed before the servers stop: none outlives the mesh.
  for (const { session } of transports.values()) session.abort();
  today?.close();
  await mesh?.stop();
});

/** The gRPC transport to `address`: connect-node's, over a connection the file closes when it ends. */
function transportTo(address: string): Transport {
  const baseUrl = `http://${address}`;
  const open = transports.get(baseUrl);
  if (open) return open.transport;
  // Our own session manager: the transport offers no other way to close its connection.
  const session = new Http2SessionManager(baseUrl);
  const transport = createGrpcTransport({ baseUrl, sessionManager: session });
  transports.set(baseUrl, { transport, session });
  return transport;
}

/** A client of `service` as the old code made it: the released descriptors, nothing from gen/. */
function releasedClient<S extends DescService>(service: S, address: string) {
  return createClient(service, transportTo(address));
}

const orderState = (name: string) => RELEASE.enumValue("ftgo.order.v1.OrderState", `ORDER_STATE_${name}`);

/** CreateOrder with the old client: 2× m-1 + 1× m-3 at r-1, 1500 in all. */
async function placeOrder(consumerId = "c-1001"): Promise<Order> {
  const orders = releasedClient(OrderService, mesh.order.address);
  const { order } = await orders.createOrder({
    consumerId,
    restaurantId: "r-1",
    lineItems: [
      { menuItemId: "m-1", quantity: 2 },
      { menuItemId: "m-3", quantity: 1 },
    ],
  });
  if (!order) throw new Error("CreateOrder answered without an order");
  return order;
}

/** Polls GetOrder with the old client until the order is APPROVED, the end of a saga that succeeded. */
function approval(orderId: string): Promise<Order> {
  const orders = releasedClient(OrderService, mesh.order.address);
  return waitFor(
    async () => {
      const { order } = await orders.getOrder({ orderId });
      return order?.state === orderState("APPROVED") ? order : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 25, message: `order ${orderId} APPROVED, read by the old client` },
  );
}

describe("a client built from release v1.0.0", () => {
  it("carries the released contract, not today's", () => {
    // Today's v1 is deprecated and a v2 exists; neither was true in v1.0.0. If these held the other way round,
    // the tests below would prove nothing about old code.
    expect(OrderServiceToday.deprecated).toBe(true);
    expect(OrderService.deprecated).toBe(false);
    expect(() => RELEASE.service("ftgo.order.v2.OrderService")).toThrow(UnreleasedTypeError);
    expect(OrderService.method.createOrder.input.fields.map((f) => f.name)).toEqual([
      "consumer_id",
      "restaurant_id",
      "line_items",
    ]);
  });

  it("creates an order on today's Order Service over v1 and reads it back APPROVED", async () => {
    const created = await placeOrder();
    expect(created.$typeName).toBe("ftgo.order.v1.Order");
    expect(created.state).toBe(orderState("APPROVAL_PENDING"));
    expect(created.consumerId).toBe("c-1001");
    expect(created.total?.minorUnits).toBe(1500n);
    expect(
      created.lineItems.map(({ menuItemId, name, quantity, price }) => [menuItemId, name, quantity, price?.minorUnits]),
    ).toEqual([
      ["m-1", "Pho bo", 2, 650n],
      ["m-3", "Ca phe sua da", 1, 200n],
    ]);

    const approved = await approval(created.orderId);
    expect(approved.reason).toBe("");
    expect(approved.pricedFromLastKnownMenu).toBe(false);
    expect(approved.total?.minorUnits).toBe(1500n);
    expect(approved.createTime?.seconds).toBeGreaterThan(0n);
  });

  it("reads every field of an order as today's v1 client reads it, and nothing it does not know", async () => {
    // Read once the saga is over, so that both reads see the same order.
    const { orderId } = await approval((await placeOrder()).orderId);
    const orders = releasedClient(OrderService, mesh.order.address);
    const [{ order: old }, { order: current }] = await Promise.all([
      orders.getOrder({ orderId }),
      today.order.getOrder({ orderId }),
    ]);
    if (!old || !current) throw new Error("GetOrder answered without an order");
    // The released descriptors decode the same values under the same names: no field moved or changed type.
    expect(toJson(OrderSchemaToday, current)).toMatchObject(toJson(OrderSchema, old) as object);
    // v1's answers carry no field the release lacked: what v2 added to the order stays out of v1.
    expect(old.$unknown ?? []).toEqual([]);
    expect(old.lineItems.flatMap((line) => line.$unknown ?? [])).toEqual([]);
  });

  it("finds its order with ListOrders", async () => {
    const { orderId } = await placeOrder("c-1002");
    const orders = releasedClient(OrderService, mesh.order.address);
    const { orders: listed } = await orders.listOrders({ consumerId: "c-1002" });
    expect(listed.map((order) => order.orderId)).toContain(orderId);
    expect(listed.every((order) => order.consumerId === "c-1002")).toBe(true);
    // Every order is in a state the release named (never UNSPECIFIED, which is also what a moved field reads as).
    const named = RELEASE.registry
      .getEnum("ftgo.order.v1.OrderState")
      ?.values.flatMap((v) => (v.number === orderState("UNSPECIFIED") ? [] : [v.number]));
    expect(named).toEqual(expect.arrayContaining(listed.map((order) => order.state)));
  });
});

describe("clients of the other services built from release v1.0.0", () => {
  it("read Kitchen's menu", async () => {
    const kitchen = releasedClient(KitchenService, mesh.kitchen.address);
    const { restaurant, menuItems } = await kitchen.getMenu({ restaurantId: "r-1" });
    expect(restaurant).toMatchObject({ restaurantId: "r-1", name: "Pho Hanoi", open: true });
    expect(menuItems.map(({ menuItemId, name, price }) => [menuItemId, name, price?.minorUnits])).toEqual([
      ["m-1", "Pho bo", 650n],
      ["m-2", "Banh mi", 300n],
      ["m-3", "Ca phe sua da", 200n],
    ]);
  });

  it("read Consumer's consumer", async () => {
    const consumers = releasedClient(ConsumerService, mesh.consumer.address);
    const { consumer } = await consumers.getConsumer({ consumerId: "c-1001" });
    expect(consumer).toMatchObject({
      consumerId: "c-1001",
      name: "Ana Nguyen",
      state: RELEASE.enumValue("ftgo.consumer.v1.ConsumerState", "CONSUMER_STATE_ACTIVE"),
    });
  });
});

describe("every RPC of release v1.0.0", () => {
  /** Calls `method` at `address` with an empty request: "OK" when it answers, else the code it fails with. */
  async function emptyCall(method: DescMethod, address: string): Promise<Code | "OK"> {
    const transport = transportTo(address);
    try {
      // DescMethod's kind is a plain property, not a discriminant: the casts say what the test just checked.
      if (method.methodKind === "unary") {
        await transport.unary(method as DescMethodUnary, undefined, 5_000, undefined, {});
      } else if (method.methodKind === "server_streaming") {
        const response = await transport.stream(
          method as DescMethodStreaming,
          undefined,
          5_000,
          undefined,
          oneEmptyRequest(),
        );
        for await (const _ of response.message) break; // the first message, or the stream's end, is an answer
      } else throw new Error(`${method.methodKind} is not called here`);
      return "OK";
    } catch (err) {
      return ConnectError.from(err).code;
    }
  }
  async function* oneEmptyRequest() {
    yield {};
  }

  /** Where a released service is served: its domain's service, or every service for the shared ones. */
  function addressesOf(service: DescService): string[] {
    const { order, consumer, kitchen, accounting, delivery } = mesh;
    const byDomain: Record<string, { address: string }> = { order, consumer, kitchen, accounting, delivery };
    const own = byDomain[service.typeName.split(".")[1] ?? ""];
    return (own ? [own] : Object.values(byDomain)).map((running) => running.address);
  }

  it("is still served by today's services: each answers, or rejects the empty request; none is UNIMPLEMENTED", async () => {
    // Server reflection is bidirectional streaming, which grpcurl.test.ts exercises; everything else is called here.
    const released = [...RELEASE.registry].flatMap((type) =>
      type.kind === "service" && !type.typeName.startsWith("grpc.reflection.") ? [type] : [],
    );
    const calls = released.flatMap((service) =>
      service.methods.flatMap((method) =>
        addressesOf(service).map(async (address) => ({
          rpc: `${service.typeName}/${method.name} at ${address}`,
          code: await emptyCall(method, address),
        })),
      ),
    );
    const answers = await Promise.all(calls);
    expect(answers.length).toBeGreaterThanOrEqual(20);
    // Served means an answer, or the server's verdict on an empty request (INVALID_ARGUMENT, naming a field).
    expect(answers.filter(({ code }) => code !== "OK" && code !== Code.InvalidArgument)).toEqual([]);
  });

  it("would be seen missing: an RPC a server does not serve answers UNIMPLEMENTED", async () => {
    // The check above can fail: Kitchen's GetMenu asked of Order Service is a method Order does not have.
    expect(await emptyCall(KitchenService.method.getMenu, mesh.order.address)).toBe(Code.Unimplemented);
  });
});
