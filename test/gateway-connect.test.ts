// The Connect protocol at the edge: every public RPC of the mesh at /rpc/<package.Service>/<Method> of
// the gateway, in Connect, gRPC-Web and gRPC, with the REST routes' authentication, authorization, rate
// limits and request ids. Clients are the ones a user would pick: connect-web's transports with Node's
// fetch (as a browser), and connect-node's gRPC transport over HTTP/2.
import { readdirSync } from "node:fs";
import http2 from "node:http2";
import { type AddressInfo, createConnection } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { EDGE_SERVICES, RPC_PREFIX, servedRpcs } from "@ftgo/gateway/connect";
import { serveHttp1AndH2c } from "@ftgo/gateway/connect/h2c";
import { RPC_RULES } from "@ftgo/gateway/connect/rules";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { LoyaltyService, OrderPointsState } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { OrderService, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { type GatewayMesh, signIn, startGatewayMesh } from "@ftgo/harness/gateway-mesh.js";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readPage, shBlock } from "./doc-blocks.js";

const GEN_TS = fileURLToPath(new URL("../gen/ts/", import.meta.url));
const LINE_ITEMS = [
  { menuItemId: "m-1", quantity: 2 },
  { menuItemId: "m-3", quantity: 1 },
];

/** Every service the contracts declare, from the generated code itself. */
async function contractServices(): Promise<DescService[]> {
  const files = readdirSync(GEN_TS, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("_pb.ts"));
  const modules = await Promise.all(files.map((file) => import(pathToFileURL(join(GEN_TS, file)).href)));
  return modules.flatMap((module) =>
    Object.values(module as Record<string, { kind?: string }>).filter((value) => value?.kind === "service"),
  ) as DescService[];
}

const withToken = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("the rule table", () => {
  it("has a rule for every RPC of the contracts, and none for an RPC that does not exist", async () => {
    const rpcs = (await contractServices()).flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`));
    expect(rpcs.length).toBeGreaterThan(20);
    const missing = rpcs.filter((rpc) => RPC_RULES[rpc] === undefined);
    expect(missing, "RPCs of gen/ts without a rule in services/gateway/src/connect/rules.ts").toEqual([]);
    expect(Object.keys(RPC_RULES).filter((rpc) => !rpcs.includes(rpc))).toEqual([]);
  });

  it("is the table docs/gateway.md shows: each RPC on its service's row", () => {
    const section = readPage("docs/gateway.md").split("## Connect at the edge")[1] ?? "";
    for (const rpc of Object.keys(RPC_RULES)) {
      const [service = "", method = ""] = rpc.split("/");
      const row = section.split("\n").find((line) => line.startsWith("| `") && line.includes(`\`${service}\``));
      expect(row, `a row for ${service}`).toBeDefined();
      expect(row, rpc).toContain(`\`${method}\``);
    }
  });

  it("serves only RPCs the gateway has a client for, and withholds the operations and infrastructure ones", () => {
    const edge = new Set(EDGE_SERVICES.map((service) => service.typeName));
    for (const rpc of servedRpcs()) expect(edge, rpc).toContain(rpc.split("/")[0]);
    expect(servedRpcs()).not.toContain("ftgo.admin.v1.AdminService/SetFault");
    expect(servedRpcs()).not.toContain("grpc.health.v1.Health/Check");
  });
});

describe("one port for HTTP/1.1 and cleartext HTTP/2", () => {
  it("hands each connection to the server of its protocol, and closes with silent and idle connections open", async () => {
    const server = serveHttp1AndH2c((request, response) => response.end(request.httpVersion));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const silent = createConnection({ host: "127.0.0.1", port });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("1.1");
      const stream = session.request({ ":path": "/" });
      let body = "";
      for await (const chunk of stream) body += chunk;
      expect(body).toBe("2.0");
      // What fastify's close does with a serverFactory: close idle connections, then the server.
      server.closeIdleConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await new Promise<void>((resolve) => (silent.destroyed ? resolve() : silent.once("close", () => resolve())));
    } finally {
      silent.destroy();
      session.destroy();
    }
  });
});

describe("Connect, gRPC-Web and gRPC at /rpc", () => {
  let mesh: GatewayMesh;
  let connectTransport: Transport;
  let grpcWebTransport: Transport;
  let grpcTransport: Transport;
  let grpcSession: Http2SessionManager | undefined;
  let token: string;
  beforeAll(async () => {
    mesh = await startGatewayMesh({ RATE_LIMIT_RPS: "10", RATE_LIMIT_BURST: "30" });
    const baseUrl = `${mesh.url}${RPC_PREFIX}`;
    connectTransport = createConnectTransport({ baseUrl, fetch: globalThis.fetch });
    grpcWebTransport = createGrpcWebTransport({ baseUrl, fetch: globalThis.fetch });
    grpcSession = new Http2SessionManager(baseUrl);
    grpcTransport = createGrpcTransport({ baseUrl, sessionManager: grpcSession });
    token = await signIn(mesh.url, { consumerId: "c-1001" });
  });
  afterAll(async () => {
    grpcSession?.abort(); // the HTTP/2 client first, so its idle connection holds nothing open
    await mesh?.stop();
  });

  it("answers the docs' curl line's call: r-1's menu, to anyone, over Connect's JSON", async () => {
    const response = await fetch(`${mesh.url}/rpc/ftgo.kitchen.v1.KitchenService/GetMenu`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ restaurantId: "r-1" }),
    });
    expect(response.status).toBe(200);
    const menu = (await response.json()) as { restaurant: { name: string }; menuItems: { name: string }[] };
    expect(menu.restaurant.name).toBe("Pho Hanoi");
    expect(menu.menuItems.map((item) => item.name)).toContain("Pho bo");
  });

  it("serves GetMenu to connect-web's Connect and gRPC-Web transports, and to a gRPC client over HTTP/2", async () => {
    for (const transport of [connectTransport, grpcWebTransport, grpcTransport]) {
      const kitchen = createClient(KitchenService, transport);
      const menu = await kitchen.getMenu({ restaurantId: "r-1" });
      expect(menu.menuItems.map((item) => item.name)).toContain("Pho bo");
    }
  });

  it("places an order with a token and streams it over Connect until it is final (cancelled once approved)", async () => {
    const orders = createClient(OrderService, connectTransport);
    const { order } = await orders.createOrder({ restaurantId: "r-1", lineItems: LINE_ITEMS }, withToken(token));
    expect(order?.consumerId).toBe("c-1001"); // the gateway names the caller
    expect(order?.state).toBe(OrderState.APPROVAL_PENDING);
    const orderId = order?.orderId ?? "";
    const seen: OrderState[] = [];
    for await (const change of orders.watchOrder({ orderId }, withToken(token))) {
      const state = change.order?.state ?? OrderState.UNSPECIFIED;
      seen.push(state);
      // APPROVED may still change; cancelling it takes it to CANCELLED, where the server ends the stream.
      if (state === OrderState.APPROVED) await orders.cancelOrder({ orderId }, withToken(token));
    }
    expect(seen[0]).toBe(OrderState.APPROVAL_PENDING);
    expect(seen).toContain(OrderState.APPROVED);
    expect(seen.at(-1)).toBe(OrderState.CANCELLED);
  });

  it("streams WatchOrder over gRPC-Web and gRPC too, to the order's final state", async () => {
    // r-2 is closed: the saga rejects the order, and REJECTED is final.
    const { order } = await createClient(OrderService, connectTransport).createOrder(
      { restaurantId: "r-2", lineItems: [{ menuItemId: "m-10", quantity: 1 }] },
      withToken(token),
    );
    for (const transport of [grpcWebTransport, grpcTransport]) {
      const states: OrderState[] = [];
      const orders = createClient(OrderService, transport);
      for await (const change of orders.watchOrder({ orderId: order?.orderId ?? "" }, withToken(token))) {
        states.push(change.order?.state ?? OrderState.UNSPECIFIED);
      }
      expect(states.at(-1)).toBe(OrderState.REJECTED);
    }
  });

  it("says on every answer of order v1, errors included, that it is deprecated for v2, as REST v1 does", async () => {
    const post = (rpc: string, body: string) =>
      fetch(`${mesh.url}/rpc/${rpc}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
    const listed = await post("ftgo.order.v1.OrderService/ListOrders", "{}");
    const missing = await post("ftgo.order.v1.OrderService/GetOrder", '{"orderId":"o-missing"}');
    const v2 = await post("ftgo.order.v2.OrderService/ListOrders", "{}");
    expect([listed.status, missing.status, v2.status]).toEqual([200, 404, 200]);
    for (const response of [listed, missing]) {
      expect(response.headers.get("deprecation")).toMatch(/^@\d+$/);
      expect(response.headers.get("sunset")).toMatch(/ GMT$/);
      expect(response.headers.get("link")).toBe('</rpc/ftgo.order.v2.OrderService>; rel="successor-version"');
    }
    expect(v2.headers.get("deprecation")).toBeNull();
  });

  it("refuses a write without a token (unauthenticated) and a bad token", async () => {
    const orders = createClient(OrderService, connectTransport);
    const request = { restaurantId: "r-1", lineItems: LINE_ITEMS };
    expect(await codeOf(orders.createOrder(request))).toBe(Code.Unauthenticated);
    expect(await codeOf(orders.createOrder(request, withToken("not.a.token")))).toBe(Code.Unauthenticated);
    const grpc = createClient(OrderService, grpcTransport);
    expect(await codeOf(grpc.listOrders({}))).toBe(Code.Unauthenticated);
  });

  it("keeps a consumer to their own orders: another's is not found, as on REST; acting as another is denied", async () => {
    const orders = createClient(OrderService, connectTransport);
    const { order } = await orders.createOrder({ restaurantId: "r-1", lineItems: LINE_ITEMS }, withToken(token));
    const orderId = order?.orderId ?? "";
    const other = await signIn(mesh.url, { consumerId: "c-1002" });
    const rest = await fetch(`${mesh.url}/api/v1/orders/${orderId}`, withToken(other));
    expect(rest.status).toBe(404);
    expect(await codeOf(orders.getOrder({ orderId }, withToken(other)))).toBe(Code.NotFound);
    expect(await codeOf(orders.cancelOrder({ orderId }, withToken(other)))).toBe(Code.NotFound);
    const stream = (async () => {
      for await (const _ of orders.watchOrder({ orderId }, withToken(other))) return;
    })();
    expect(await codeOf(stream)).toBe(Code.NotFound);
    const delivery = createClient(DeliveryService, connectTransport);
    expect(await codeOf(delivery.getDelivery({ orderId }, withToken(other)))).toBe(Code.NotFound);
    expect(await codeOf(orders.getOrder({ orderId }, withToken(token)))).toBe("ok");
    const asAnother = orders.createOrder(
      { consumerId: "c-1001", restaurantId: "r-1", lineItems: LINE_ITEMS },
      withToken(other),
    );
    expect(await codeOf(asAnother)).toBe(Code.PermissionDenied);
    const consumers = createClient(ConsumerService, connectTransport);
    expect(await codeOf(consumers.getConsumer({ consumerId: "c-1001" }, withToken(other)))).toBe(Code.PermissionDenied);
    const { orders: listed } = await orders.listOrders({}, withToken(other));
    expect(listed.map((one) => one.orderId)).not.toContain(orderId);
    const admin = await signIn(mesh.url, { role: "admin" });
    expect(await codeOf(orders.getOrder({ orderId }, withToken(admin)))).toBe("ok");
    expect(await codeOf(orders.createOrder({ restaurantId: "r-1", lineItems: LINE_ITEMS }, withToken(admin)))).toBe(
      Code.PermissionDenied,
    );
  });

  it("serves the Go Loyalty service like the others: the order's points and the caller's account, to them only", async () => {
    const orders = createClient(OrderService, connectTransport);
    const { order } = await orders.createOrder({ restaurantId: "r-1", lineItems: LINE_ITEMS }, withToken(token));
    const orderId = order?.orderId ?? "";
    const loyalty = createClient(LoyaltyService, connectTransport);
    const earned = await vi.waitFor(
      async () => {
        const { orderPoints } = await loyalty.getOrderPoints({ orderId }, withToken(token));
        if (orderPoints?.state !== OrderPointsState.EARNED) throw new Error(`not earned yet: ${orderPoints?.state}`);
        return orderPoints;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(earned).toMatchObject({ orderId, consumerId: "c-1001" });
    const { account } = await loyalty.getAccount({ consumerId: "c-1001" }, withToken(token));
    expect(account?.pointsBalance).toBeGreaterThanOrEqual(earned.points);
    const other = await signIn(mesh.url, { consumerId: "c-1002" });
    expect(await codeOf(loyalty.getOrderPoints({ orderId }, withToken(other)))).toBe(Code.NotFound);
    expect(await codeOf(loyalty.getAccount({ consumerId: "c-1001" }, withToken(other)))).toBe(Code.PermissionDenied);
    expect(await codeOf(loyalty.getOrderPoints({ orderId }))).toBe(Code.Unauthenticated);
  });

  it("answers bad input with Connect's JSON error, invalid_argument naming the field, never a 500", async () => {
    const post = (rpc: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${mesh.url}/rpc/${rpc}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
        body,
      });
    const cases: [string, Response, RegExp][] = [
      ["empty id", await post("ftgo.kitchen.v1.KitchenService/GetMenu", '{"restaurantId":""}'), /restaurant_id/],
      ["bad id", await post("ftgo.kitchen.v1.KitchenService/GetMenu", '{"restaurantId":"r 1!"}'), /restaurant_id/],
      ["malformed JSON", await post("ftgo.kitchen.v1.KitchenService/GetMenu", "{not json"), /./],
      ["unknown field", await post("ftgo.kitchen.v1.KitchenService/GetMenu", '{"color":"red"}'), /color/],
      [
        "no line items",
        await post("ftgo.order.v1.OrderService/CreateOrder", '{"restaurantId":"r-1","lineItems":[]}'),
        /line_items/,
      ],
      [
        "quantity 0",
        await post(
          "ftgo.order.v1.OrderService/CreateOrder",
          '{"restaurantId":"r-1","lineItems":[{"menuItemId":"m-1","quantity":0}]}',
        ),
        /quantity/,
      ],
    ];
    for (const [name, response, field] of cases) {
      const body = (await response.json()) as { code: string; message: string };
      expect({ name, status: response.status, code: body.code }).toEqual({
        name,
        status: 400,
        code: "invalid_argument",
      });
      expect(body.message, name).toMatch(field);
    }
    const overGrpc = createClient(KitchenService, grpcTransport).getMenu({ restaurantId: "" });
    expect(await codeOf(overGrpc)).toBe(Code.InvalidArgument);
    const unknownRestaurant = await post("ftgo.kitchen.v1.KitchenService/GetMenu", '{"restaurantId":"r-404"}');
    expect([unknownRestaurant.status, ((await unknownRestaurant.json()) as { code: string }).code]).toEqual([
      404,
      "not_found",
    ]);
  });

  it("does not serve a withheld RPC (fault injection): unimplemented", async () => {
    const response = await fetch(`${mesh.url}/rpc/ftgo.admin.v1.AdminService/ListFaults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(404);
    const admin = createClient((await import("@ftgo/gen/ftgo/admin/v1/admin_pb.js")).AdminService, connectTransport);
    expect(await codeOf(admin.listFaults({}))).toBe(Code.Unimplemented);
  });

  it("echoes the caller's x-request-id and carries it into the mesh: the OrderCreated event has it", async () => {
    const nc = await connect({ servers: mesh.mesh.nats.url });
    try {
      const created = nc.subscribe("ftgo.order.event.order_created.>", { max: 1 });
      await nc.flush();
      let echoed: string | null = null;
      await createClient(OrderService, connectTransport).createOrder(
        { restaurantId: "r-1", lineItems: LINE_ITEMS },
        {
          headers: { authorization: `Bearer ${token}`, "x-request-id": "connect-trace-7" },
          onHeader: (headers) => {
            echoed = headers.get("x-request-id");
          },
        },
      );
      expect(echoed).toBe("connect-trace-7");
      for await (const msg of created) expect(msg.headers?.get("X-Request-Id")).toBe("connect-trace-7");
    } finally {
      await nc.close();
    }
  });

  it("limits a flooding caller to its bucket with resource_exhausted, the REST limit's bucket", async () => {
    const flooder = await signIn(mesh.url, { consumerId: "c-connect-flood" });
    const kitchen = createClient(KitchenService, connectTransport);
    const codes = await Promise.all(
      Array.from({ length: 150 }, () => codeOf(kitchen.getMenu({ restaurantId: "r-1" }, withToken(flooder)))),
    );
    expect(codes.filter((code) => code === "ok").length).toBeGreaterThan(0);
    expect(codes).toContain(Code.ResourceExhausted);
    expect(codes.filter((code) => code !== "ok" && code !== Code.ResourceExhausted)).toEqual([]);
    // The same bucket as REST: the flooder's next REST request finds it (nearly) empty, not a fresh one of 30.
    const rest = await fetch(`${mesh.url}/api/v1/orders`, withToken(flooder));
    const remaining = Number(rest.headers.get("ratelimit-remaining") ?? "0");
    expect(rest.status === 429 || remaining < 20, `${rest.status}, ${remaining} left`).toBe(true);
  });

  it("runs the gateway page's Connect block: an order, unauthenticated, invalid_argument, and the GET form", async () => {
    const block = shBlock("docs/gateway.md", "rpc/ftgo.order.v1.OrderService/CreateOrder");
    const script = block.text.replaceAll("127.0.0.1:8080", `127.0.0.1:${mesh.gateway.port}`);
    const result = await runShell(`set -euo pipefail\n${script}`, { timeoutMs: 30_000, env: { TOKEN: token } });
    expect(result.code, result.stderr).toBe(0);
    const [created, anonymous, invalid, got] = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(created.order).toMatchObject({ consumerId: "c-1001", state: "ORDER_STATE_APPROVAL_PENDING" });
    expect(anonymous.code).toBe("unauthenticated");
    expect(invalid.code).toBe("invalid_argument");
    expect(invalid.message).toMatch(/^restaurant_id: /);
    expect(got.restaurant).toMatchObject({ restaurantId: "r-1", name: "Pho Hanoi" });
  });

  it("answers unavailable, not a 500, when the service behind an RPC is down", async () => {
    const { order } = await createClient(OrderService, connectTransport).createOrder(
      { restaurantId: "r-1", lineItems: LINE_ITEMS },
      withToken(token),
    );
    await mesh.stopService("delivery");
    const delivery = createClient(DeliveryService, connectTransport);
    expect(await codeOf(delivery.getDelivery({ orderId: order?.orderId ?? "" }, withToken(token)))).toBe(
      Code.Unavailable,
    );
    const response = await fetch(`${mesh.url}/rpc/ftgo.delivery.v1.DeliveryService/GetDelivery`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ orderId: order?.orderId }),
    });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { code: string }).code).toBe("unavailable");
  });
});
