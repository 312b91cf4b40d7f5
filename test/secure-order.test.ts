// Issue 17 §1, object-level authorization at the service: in the secure mode Order decides whose orders a call
// may create or read from the end user it acts for (a learner's certificate name, or the gateway's signed
// claim), not only the gateway at the edge. Called directly with a valid certificate of the mesh, Order still
// refuses another consumer's order; through the gateway, a consumer's claim travels with every call.
import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type CallOptions, type Client, Code, ConnectError } from "@connectrpc/connect";
import { OrderService as OrderServiceV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { call, signIn } from "@ftgo/harness/gateway-calls.js";
import { type SecureOrderMesh, startSecureOrderMesh } from "@ftgo/harness/secure-order-mesh.js";
import {
  createGrpcClient,
  createGrpcTransport,
  END_USER_HEADER,
  type GrpcTransport,
  type MeshTls,
  signEndUser,
} from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const LINES = [{ menuItemId: "m-1", quantity: 1 }];
const ADDRESS = { street1: "1 Main St", city: "Oakland", postalCode: "94611" };

let mesh: SecureOrderMesh;
const transports: GrpcTransport[] = [];
/** c-2002's order, placed with the admin's certificate (which acts for anyone). */
let theirs: string;

/** Order's two APIs, called directly as `identity`, over mTLS. */
function orderAs(identity: string | MeshTls) {
  const tls = typeof identity === "string" ? mesh.pki.tls(identity) : identity;
  const transport = createGrpcTransport({ address: mesh.order.address, tls });
  transports.push(transport);
  return { v2: createGrpcClient(OrderService, transport), v1: createGrpcClient(OrderServiceV1, transport) };
}

/** The status code a call failed with, and its message; fails the test when the call succeeded. */
async function refusal(attempt: Promise<unknown> | AsyncIterable<unknown>): Promise<ConnectError> {
  try {
    if (Symbol.asyncIterator in attempt) for await (const _ of attempt);
    else await attempt;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("the call was expected to be refused, and it succeeded");
}

/** A v2 CreateOrder of one m-1 at r-1 for `consumerId`, with a fresh key. */
function place(client: Client<typeof OrderService>, consumerId: string, options?: CallOptions) {
  const delivery = { address: ADDRESS, deliverAt: timestampFromDate(new Date("2030-01-01T18:30:00Z")) };
  const request = { idempotencyKey: `k-${randomUUID()}`, consumerId, restaurantId: "r-1", lineItems: LINES, delivery };
  return client.createOrder(request, options);
}

beforeAll(async () => {
  mesh = await startSecureOrderMesh(["c-1001"]);
  const { order } = await place(orderAs("admin").v2, "c-2002");
  theirs = order?.orderId ?? "";
  expect(theirs).not.toBe("");
}, 60_000);

afterAll(async () => {
  for (const transport of transports) transport.close();
  await mesh?.stop();
});

describe("Order called directly with a service's certificate", () => {
  it("refuses kitchen's certificate to create or read any order", async () => {
    const { v2 } = orderAs("kitchen");
    expect((await refusal(place(v2, "c-1001"))).code).toBe(Code.PermissionDenied);
    expect((await refusal(v2.getOrder({ orderId: theirs }))).code).toBe(Code.PermissionDenied);
  });

  it("refuses the gateway's certificate without an end-user claim: it acts for nobody", async () => {
    const { v2, v1 } = orderAs("gateway");
    const created = await refusal(place(v2, "c-1001"));
    expect(created.code).toBe(Code.PermissionDenied);
    expect(created.rawMessage).toContain("a verified end user is required");
    expect((await refusal(v2.getOrder({ orderId: theirs }))).code).toBe(Code.PermissionDenied);
    expect((await refusal(v1.listOrders({}))).code).toBe(Code.PermissionDenied);
  });

  it("serves the gateway's certificate for the consumer its signed claim names, and only that consumer", async () => {
    const { v2 } = orderAs("gateway");
    const claim = await signEndUser({ role: "consumer", subject: "c-1001" }, mesh.pki.tls("gateway"));
    const asC1001: CallOptions = { headers: { [END_USER_HEADER]: claim } };
    const { order } = await place(v2, "c-1001", asC1001);
    expect(order?.consumerId).toBe("c-1001");
    const read = await v2.getOrder({ orderId: order?.orderId ?? "" }, asC1001);
    expect(read.order?.orderId).toBe(order?.orderId);
    expect((await refusal(v2.getOrder({ orderId: theirs }, asC1001))).code).toBe(Code.NotFound);
    expect((await refusal(place(v2, "c-2002", asC1001))).rawMessage).toContain("c-1001 may not order for c-2002");
  });
});

describe("Order called directly with a learner's certificate (c-1001)", () => {
  it("creates an order for c-1001, and reads it, in both versions", async () => {
    const { v2, v1 } = orderAs("c-1001");
    const { order } = await place(v2, "c-1001");
    expect(order?.consumerId).toBe("c-1001");
    const orderId = order?.orderId ?? "";
    expect((await v2.getOrder({ orderId })).order?.orderId).toBe(orderId);
    expect((await v1.getOrder({ orderId })).order?.orderId).toBe(orderId);
    const created = await v1.createOrder({ consumerId: "c-1001", restaurantId: "r-1", lineItems: LINES });
    expect(created.order?.consumerId).toBe("c-1001");
  });

  it("may not order for c-2002: PERMISSION_DENIED, saying who may not order for whom", async () => {
    const { v2, v1 } = orderAs("c-1001");
    for (const attempt of [
      place(v2, "c-2002"),
      v1.createOrder({ consumerId: "c-2002", restaurantId: "r-1", lineItems: LINES }),
    ]) {
      const refused = await refusal(attempt);
      expect(refused.code).toBe(Code.PermissionDenied);
      expect(refused.rawMessage).toContain("c-1001 may not order for c-2002");
    }
  });

  it("cannot read, watch or cancel c-2002's order: NOT_FOUND, as if there were none", async () => {
    const { v2, v1 } = orderAs("c-1001");
    const missing = await refusal(v2.getOrder({ orderId: "no-such-order" }));
    for (const attempt of [
      v2.getOrder({ orderId: theirs }),
      v1.getOrder({ orderId: theirs }),
      v2.cancelOrder({ orderId: theirs }),
      v2.watchOrder({ orderId: theirs }),
      v1.watchOrder({ orderId: theirs }),
    ]) {
      const refused = await refusal(attempt);
      expect(refused.code).toBe(Code.NotFound);
      expect(refused.rawMessage).toBe(missing.rawMessage.replace("no-such-order", theirs));
    }
  });

  it("lists only c-1001's orders, and may not list c-2002's", async () => {
    const { v2 } = orderAs("c-1001");
    const { orders } = await v2.listOrders({});
    expect(orders.length).toBeGreaterThan(0);
    expect(new Set(orders.map((order) => order.consumerId))).toEqual(new Set(["c-1001"]));
    const refused = await refusal(v2.listOrders({ consumerId: "c-2002" }));
    expect(refused.code).toBe(Code.PermissionDenied);
    expect(refused.rawMessage).toContain("c-1001 may not list the orders of c-2002");
    const everyone = await orderAs("admin").v2.listOrders({});
    expect(everyone.orders.some((order) => order.orderId === theirs)).toBe(true);
  });
});

describe("the gateway, forwarding the signed-in caller's claim", () => {
  it("creates and reads a consumer's order, and answers 404 for another consumer's", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const created = await call(`${mesh.url}/api/v2/orders`, token, {
      method: "POST",
      body: {
        restaurantId: "r-1",
        lineItems: LINES,
        delivery: { address: ADDRESS, deliverAt: "2030-01-01T18:30:00Z" },
      },
      headers: { "idempotency-key": randomUUID() },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const read = await call(`${mesh.url}/api/v2/orders/${created.body.orderId}`, token);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.order.consumerId).toBe("c-1001");
    expect((await call(`${mesh.url}/api/v2/orders/${theirs}`, token)).status).toBe(404);
    expect((await call(`${mesh.url}/api/v1/orders/${theirs}`, token)).status).toBe(404);
  });

  it("streams a consumer's own order as Server-Sent Events (WatchOrder with its claim), and 404s another's", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const { order } = await place(orderAs("c-1001").v2, "c-1001");
    const orderId = order?.orderId ?? "";
    const stop = new AbortController();
    try {
      const response = await fetch(`${mesh.url}/api/v2/orders/${orderId}/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: stop.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (reader && !text.includes("event: order")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      expect(text).toContain("event: order");
      expect(text).toContain(orderId);
    } finally {
      stop.abort();
    }
    expect((await call(`${mesh.url}/api/v2/orders/${theirs}/events`, token)).status).toBe(404);
  });

  it("forwards the claim on the Connect routes (/rpc) too: c-1001 lists only its own orders", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const rpc = (method: string, body: unknown) =>
      call(`${mesh.url}/rpc/ftgo.order.v2.OrderService/${method}`, token, { method: "POST", body });
    const listed = await rpc("ListOrders", {});
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.orders.length).toBeGreaterThan(0);
    expect(new Set(listed.body.orders.map((order: { consumerId: string }) => order.consumerId))).toEqual(
      new Set(["c-1001"]),
    );
    const read = await rpc("GetOrder", { orderId: theirs });
    expect(read.body.code).toBe("not_found");
  });

  it("reads anyone's order for a signed-in admin (the admin claim acts for anyone)", async () => {
    const token = await signIn(mesh.url, { role: "admin" });
    const read = await call(`${mesh.url}/api/v2/orders/${theirs}`, token);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.order.consumerId).toBe("c-2002");
  });

  it("sets and clears a fault through the dashboard: AdminService admits the gateway as an admin", async () => {
    const token = await signIn(mesh.url, { role: "admin" });
    const headers = { "x-requested-with": "ftgo-dashboard" };
    const fault = { service: "order", method: "/ftgo.order.v2.OrderService/ListOrders", statusCode: 14 };
    const set = await call(`${mesh.url}/dashboard/api/faults`, token, { method: "POST", body: fault, headers });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.instances).toBe(1);
    const admin = orderAs("admin").v2;
    expect((await refusal(admin.listOrders({}))).code).toBe(Code.Unavailable);
    const cleared = await call(`${mesh.url}/dashboard/api/faults/clear`, token, {
      method: "POST",
      body: { service: "order" },
      headers,
    });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect((await admin.listOrders({})).orders.length).toBeGreaterThan(0);
  });
});
