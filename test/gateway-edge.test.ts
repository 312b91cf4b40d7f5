import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { OrderApprovedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  type Body,
  call,
  type GatewayMesh,
  placeOrderThroughGateway,
  signIn,
  startGatewayMesh,
} from "@ftgo/harness/gateway-mesh.js";
import { createOutbox, openExistingDatabase } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { connect, headers } from "@nats-io/transport-node";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("the gateway's edge functions", () => {
  let mesh: GatewayMesh;
  beforeAll(async () => {
    // A long order TTL: only an event can make the cached details change.
    mesh = await startGatewayMesh({ RATE_LIMIT_RPS: "10", RATE_LIMIT_BURST: "20", ORDER_CACHE_TTL_MS: "600000" });
  });
  afterAll(() => mesh?.stop());

  it("limits a flooding client to burst + rate × time while another client is not limited at all", async () => {
    const flooder = await signIn(mesh.url, { consumerId: "c-flood" });
    const bystander = await signIn(mesh.url, { consumerId: "c-calm" });
    const started = performance.now();
    const flood = await Promise.all(
      Array.from({ length: 120 }, () =>
        fetch(`${mesh.url}/healthz`, { headers: { authorization: `Bearer ${flooder}` } }),
      ),
    );
    const calm = await Promise.all(
      Array.from({ length: 5 }, () =>
        fetch(`${mesh.url}/healthz`, { headers: { authorization: `Bearer ${bystander}` } }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const accepted = flood.filter((response) => response.status === 200).length;
    const refused = flood.find((response) => response.status === 429);
    expect(accepted).toBeLessThanOrEqual(20 + 10 * seconds + 1);
    expect(refused?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refused?.headers.get("ratelimit-remaining")).toBe("0");
    expect(calm.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it("serves the second menu read from the cache, with an ETag that answers 304", async () => {
    const first = await fetch(`${mesh.url}/api/v1/restaurants/r-1/menu`);
    const second = await fetch(`${mesh.url}/api/v1/restaurants/r-1/menu`);
    expect([first.headers.get("x-cache"), second.headers.get("x-cache")]).toEqual(["miss", "hit"]);
    expect(second.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const menu = (await second.json()) as { menuItems: unknown[] };
    expect(menu.menuItems.length).toBeGreaterThan(0);
    const etag = second.headers.get("etag") ?? "";
    const revalidated = await fetch(`${mesh.url}/api/v1/restaurants/r-1/menu`, { headers: { "if-none-match": etag } });
    expect(revalidated.status).toBe(304);
  });

  it("drops an order's cached details when its saga advances", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const { body } = await call(`${mesh.url}/api/v1/orders/${orderId}`, token);
        seen.add(body.order.state);
        return body.order.state === "APPROVED" && body.payment?.state === "AUTHORIZED";
      },
      { timeoutMs: 15_000, intervalMs: 20, message: "order approved through the cache" },
    );
    // The saga's last events (OrderApproved, TicketApproved) may still be on their way and drop the entry
    // once more; after them nothing happens to the order until someone acts, so reads become hits.
    const again = await waitFor(
      async () => {
        const read = await call(`${mesh.url}/api/v1/orders/${orderId}`, token);
        return read.headers.get("x-cache") === "hit" && read;
      },
      { timeoutMs: 5_000, intervalMs: 20, message: "a settled order's details served from the cache" },
    );
    expect(again.body.order.state).toBe("APPROVED");

    // Any event of the order, from any of the three domains, drops the entry at once.
    const nc = await connect({ servers: mesh.mesh.nats.url });
    const event = headers();
    event.set("Ftgo-Correlation-Id", orderId);
    nc.publish("ftgo.kitchen.event.ticket_accepted.0", new Uint8Array(), { headers: event });
    await nc.flush();
    await nc.close();
    await waitFor(
      async () =>
        (
          await fetch(`${mesh.url}/api/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${token}` } })
        ).headers.get("x-cache") === "miss",
      {
        timeoutMs: 5_000,
        message: "cached details dropped by the event",
      },
    );
  });

  it("carries the caller's x-request-id back, and makes one when there is none", async () => {
    const given = await fetch(`${mesh.url}/healthz`, { headers: { "x-request-id": "req-abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("req-abc-123");
    const made = await fetch(`${mesh.url}/healthz`);
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("propagates the request id into the mesh: the OrderCreated event carries it", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const nc = await connect({ servers: mesh.mesh.nats.url });
    const created = nc.subscribe("ftgo.order.event.order_created.>", { max: 1 });
    await nc.flush();
    await call(`${mesh.url}/api/v1/orders`, token, {
      method: "POST",
      headers: { "x-request-id": "trace-me-42" },
      body: { restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] },
    });
    for await (const msg of created) expect(msg.headers?.get("X-Request-Id")).toBe("trace-me-42");
    await nc.close();
  });

  it("answers bad input with a JSON error and never a 500", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orders = `${mesh.url}/api/v1/orders`;
    const cases: [string, Awaited<ReturnType<typeof call>>, number][] = [
      ["malformed JSON", await call(orders, token, { method: "POST", body: "{not json" }), 400],
      ["wrong type", await call(orders, token, { method: "POST", body: { restaurantId: 7, lineItems: [] } }), 400],
      ["unknown field", await call(orders, token, { method: "POST", body: { restaurantId: "r-1", extra: 1 } }), 400],
      ["consumer in body", await call(orders, token, { method: "POST", body: { consumerId: "c-1002" } }), 400],
      ["array body", await call(orders, token, { method: "POST", body: [] }), 400],
      ["oversized", await call(orders, token, { method: "POST", body: { restaurantId: "x".repeat(100_000) } }), 413],
      ["unknown route", await call(`${mesh.url}/api/v1/nope`, token), 404],
      ["unknown order", await call(`${orders}/o-missing`, token), 404],
      ["unknown query", await call(`${orders}?color=red`, token), 400],
      [
        "no line items",
        await call(orders, token, { method: "POST", body: { restaurantId: "r-1", lineItems: [] } }),
        400,
      ],
    ];
    for (const [name, response, status] of cases) {
      expect({ name, status: response.status }).toEqual({ name, status });
      expect(response.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    }
  });

  it("publishes an OpenAPI 3.1 document listing every route, and a UI at /docs", async () => {
    const { status, body } = await call(`${mesh.url}/openapi.json`, undefined);
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    // Valid against the OpenAPI 3.1 specification's own JSON schema, $refs included.
    const validation = await new Validator().validate(body);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);
    const expected = [
      "post /api/v1/auth/token",
      "post /api/v1/orders",
      "get /api/v1/orders",
      "get /api/v1/orders/{orderId}",
      "post /api/v1/orders/{orderId}/cancel",
      "get /api/v1/orders/{orderId}/events",
      "post /api/v2/orders",
      "get /api/v2/orders",
      "get /api/v2/orders/{orderId}",
      "post /api/v2/orders/{orderId}/cancel",
      "get /api/v2/orders/{orderId}/events",
      "get /api/v1/restaurants/{restaurantId}/menu",
      "get /mobile/v1/orders/{orderId}",
      "get /api/v1/admin/services",
      "get /.well-known/jwks.json",
      "get /openapi.json",
      "get /asyncapi.json",
      "get /healthz",
      "get /readyz",
    ];
    const listed = Object.entries(body.paths as Record<string, object>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(listed.sort()).toEqual(expected.sort());
    // Structure: every operation answers something, every $ref resolves, path parameters are declared.
    const refs = [...JSON.stringify(body).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      ([, name]) => name,
    );
    for (const name of refs) expect(body.components.schemas, `schema ${name}`).toHaveProperty([name ?? ""]);
    for (const [path, operations] of Object.entries(body.paths as Record<string, Record<string, Body>>)) {
      for (const operation of Object.values(operations)) {
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
        const declared = operation.parameters
          .filter((p: { in: string }) => p.in === "path")
          .map((p: { name: string }) => p.name);
        expect(declared).toEqual([...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name));
      }
    }
    expect(body.components.schemas["ftgo.order.v1.OrderState"].enum).toContain("APPROVAL_PENDING");

    const docs = await fetch(`${mesh.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });
});

describe("the gateway when services fail", () => {
  let mesh: GatewayMesh;
  beforeAll(async () => {
    mesh = await startGatewayMesh({ COMPOSE_LEG_TIMEOUT_MS: "500" });
  });
  afterAll(() => mesh?.stop());

  it("still composes an order without Delivery, naming it unavailable within the leg deadline", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    await mesh.stopService("delivery");
    const started = performance.now();
    const { status, body } = await call(`${mesh.url}/api/v1/orders/${orderId}`, token);
    expect(performance.now() - started).toBeLessThan(500 + 250);
    expect(status).toBe(200);
    expect(body.unavailable).toEqual(["delivery"]);
    expect(body.delivery).toBeNull();
    expect(body.order.orderId).toBe(orderId);
    expect((await fetch(`${mesh.url}/readyz`)).status).toBe(503);
  });

  it("answers 503 with a clear error when Order is down", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    await mesh.stopService("order");
    const { status, body } = await call(`${mesh.url}/api/v1/orders/${orderId}`, token);
    expect(status).toBe(503);
    expect(body.error.code).toBe("UNAVAILABLE");
    expect(body.error.message).toMatch(/order/);
  });
});

describe("the gateway's readiness when a service's outbox parks a row", () => {
  let mesh: GatewayMesh;
  beforeAll(async () => {
    mesh = await startGatewayMesh();
  });
  afterAll(() => mesh?.stop());

  it("stays ready and lists the service as degraded, saying what to do", async () => {
    const before = (await (await fetch(`${mesh.url}/readyz`)).json()) as Body;
    expect(before).toMatchObject({ ready: true });
    expect(before.degraded).toBeUndefined();
    // A row no broker will ever take (its subject is not a channel), written to Accounting's outbox as a
    // transaction of Accounting's own would be: the relay parks it and Accounting serves on.
    const db = openExistingDatabase(join(mesh.mesh.dataDir, "accounting.db"));
    try {
      const orderId = randomUUID();
      db.transaction(() => {
        const messageId = createOutbox(db).append(OrderApprovedSchema, { orderId }, { correlationId: orderId });
        db.prepare("UPDATE outbox SET subject = ? WHERE message_id = ?").run("$JS.API.STREAM.LIST", messageId);
      })();
    } finally {
      db.close();
    }

    const readiness = await waitFor(
      async () => {
        const response = await fetch(`${mesh.url}/readyz`);
        const body = (await response.json()) as { ready: boolean; degraded?: Record<string, string> };
        return body.degraded ? { status: response.status, body } : undefined;
      },
      { timeoutMs: 10_000, message: "/readyz listing Accounting as degraded" },
    );
    expect(readiness.status).toBe(200);
    expect(readiness.body.ready).toBe(true);
    expect(Object.keys(readiness.body.degraded ?? {})).toEqual(["accounting"]);
    expect(readiness.body.degraded?.accounting).toMatch(/parked rows.*npm run dead-letters -- parked/);
  });
});
