// Two versions of the orders API at the edge, against the real mesh: /api/v1/orders… still answers but says
// on every answer, errors included, that it is deprecated, until when, and what replaces it (with the dates
// the gateway is configured with, not its defaults); /api/v2/orders… places orders through Order's v2 API,
// idempotently on the client's Idempotency-Key, and they go through the saga like any other; /openapi.json
// documents both. And docs/gateway.md's block about the two versions runs as shown (test/doc-claims.ts).
import { randomUUID } from "node:crypto";
import { runShell } from "@ftgo/harness/docs-shell.js";
import {
  type Body,
  call,
  detailsWhenSettled,
  type GatewayMesh,
  signIn,
  startGatewayMesh,
} from "@ftgo/harness/gateway-mesh.js";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shBlock } from "./doc-blocks.js";

const DEPRECATION_URL = "https://docs.example/ftgo/evolving-order";
const V1_HEADERS = {
  deprecation: "@1796126400", // 2026-12-01T12:00:00Z
  sunset: "Mon, 01 Mar 2027 00:00:00 GMT",
  link: `</api/v2/orders>; rel="successor-version", <${DEPRECATION_URL}>; rel="deprecation"; type="text/html"`,
};

/** A v2 order body: 2× m-1 (the first without peanuts) and 1× m-3 at r-1, delivered to an address at a time. */
const V2_ORDER = {
  restaurantId: "r-1",
  lineItems: [
    { menuItemId: "m-1", quantity: 2, specialInstructions: "no peanuts" },
    { menuItemId: "m-3", quantity: 1 },
  ],
  delivery: {
    address: { street1: "1 Main St", street2: "Apt 4", city: "Oakland", postalCode: "94611" },
    deliverAt: "2030-01-01T18:30:00Z",
  },
};

const deprecationOf = (headers: Headers) => ({
  deprecation: headers.get("deprecation"),
  sunset: headers.get("sunset"),
  link: headers.get("link"),
});

let mesh: GatewayMesh;
let token: string;
beforeAll(async () => {
  mesh = await startGatewayMesh({
    ORDERS_V1_DEPRECATED_AT: "2026-12-01T12:00:00Z",
    ORDERS_V1_SUNSET_AT: "2027-03-01",
    ORDERS_V1_DEPRECATION_URL: DEPRECATION_URL,
  });
  token = await signIn(mesh.url, { consumerId: "c-1001" });
});
afterAll(() => mesh?.stop());

/** POST /api/v2/orders with `key` as the Idempotency-Key header (none when undefined). */
const placeV2 = (key: string | undefined, body: unknown = V2_ORDER, who = token) =>
  call(`${mesh.url}/api/v2/orders`, who, {
    method: "POST",
    body,
    headers: key === undefined ? {} : { "idempotency-key": key },
  });

describe("the v1 orders API, deprecated in favour of v2", () => {
  it("answers every /api/v1/orders… request with the configured Deprecation, Sunset and Link, errors included", async () => {
    const orders = `${mesh.url}/api/v1/orders`;
    const seed = { restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] };
    const created = await call(orders, token, { method: "POST", body: seed });
    expect(created.status).toBe(202);
    const orderId: string = created.body.orderId;
    const events = await fetch(`${orders}/${orderId}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(15_000),
    });
    await events.body?.cancel();
    const answers: [string, { status: number; headers: Headers }, number][] = [
      ["create", created, 202],
      ["list", await call(orders, token), 200],
      ["details", await call(`${orders}/${orderId}`, token), 200],
      ["events", events, 200],
      ["unknown order", await call(`${orders}/o-missing`, token), 404],
      ["no token", await call(orders, undefined, { method: "POST", body: seed }), 401],
      ["bad body", await call(orders, token, { method: "POST", body: { restaurantId: 7 } }), 400],
      ["too large", await call(orders, token, { method: "POST", body: { restaurantId: "x".repeat(100_000) } }), 413],
      ["cancel someone else's", await call(`${orders}/o-missing/cancel`, token, { method: "POST" }), 404],
    ];
    for (const [name, answer, status] of answers) {
      expect({ name, status: answer.status, ...deprecationOf(answer.headers) }).toEqual({
        name,
        status,
        ...V1_HEADERS,
      });
    }
  });

  it("says nothing of deprecation on v2, the menu, sign-in or the gateway's own routes", async () => {
    const answers = [
      await call(`${mesh.url}/api/v2/orders`, token),
      await placeV2(undefined),
      await call(`${mesh.url}/api/v1/restaurants/r-1/menu`, undefined),
      await call(`${mesh.url}/healthz`, undefined),
      await call(`${mesh.url}/api/v1/nope`, token),
    ];
    for (const answer of answers) {
      expect(deprecationOf(answer.headers)).toEqual({ deprecation: null, sunset: null, link: null });
    }
  });
});

describe("the v2 orders API", () => {
  it("places an order with an Idempotency-Key that the saga approves, delivery and instructions kept", async () => {
    const key = randomUUID();
    const created = await placeV2(`"${key}"`);
    expect(created).toMatchObject({ status: 202, body: { orderId: expect.any(String), state: "APPROVAL_PENDING" } });
    const orderId: string = created.body.orderId;

    const details = await detailsWhenSettled(mesh.url, token, orderId);
    expect(details.ticket.state).toBe("AWAITING_ACCEPTANCE");
    expect(details.payment.state).toBe("AUTHORIZED");
    const v2 = await call(`${mesh.url}/api/v2/orders/${orderId}`, token);
    expect(v2.status).toBe(200);
    expect(v2.body.order).toMatchObject({
      orderId,
      idempotencyKey: key,
      consumerId: "c-1001",
      state: "APPROVED",
      priceSource: "CURRENT_MENU",
      total: { minorUnits: "1500" },
      delivery: V2_ORDER.delivery,
      lineItems: [
        { menuItemId: "m-1", quantity: 2, specialInstructions: "no peanuts" },
        { menuItemId: "m-3", quantity: 1, specialInstructions: "" },
      ],
    });
    expect(v2.body.payment.state).toBe("AUTHORIZED");
  });

  it("answers a repeated Idempotency-Key with the order it first created, and creates no second one", async () => {
    const consumerId = `c-idem-${randomUUID().slice(0, 8)}`;
    const own = await signIn(mesh.url, { consumerId });
    const key = randomUUID();
    const first = await placeV2(key, V2_ORDER, own);
    // A retry after a lost answer, and two more at once: the draft's quoted form and the bare one are one key.
    const repeats = [
      await placeV2(`"${key}"`, V2_ORDER, own),
      ...(await Promise.all([placeV2(key, V2_ORDER, own), placeV2(`"${key}"`, V2_ORDER, own)])),
    ];
    expect(first.status).toBe(202);
    for (const repeat of repeats) expect(repeat).toMatchObject({ status: 202, body: { orderId: first.body.orderId } });

    const listed = await call(`${mesh.url}/api/v2/orders?pageSize=100`, own);
    expect(listed.status).toBe(200);
    expect(listed.body.orders.map((order: Body) => [order.orderId, order.idempotencyKey])).toEqual([
      [first.body.orderId, key],
    ]);
  });

  it("refuses the same key with another order: 400 naming the key, nothing created", async () => {
    const key = randomUUID();
    expect((await placeV2(key)).status).toBe(202);
    const other = { ...V2_ORDER, lineItems: [{ menuItemId: "m-1", quantity: 5 }] };
    const { status, body } = await placeV2(key, other);
    expect({ status, code: body.error.code }).toEqual({ status: 400, code: "INVALID_ARGUMENT" });
    expect(body.error.message).toContain("idempotency_key");
  });

  it.each([
    ["missing", undefined, /^the Idempotency-Key header is required: /],
    ["empty quotes", '""', /^the Idempotency-Key header "\\"\\"" is not a valid key: at most 64 characters/],
    ["too long", "k".repeat(65), /^the Idempotency-Key header "k{65}" is not a valid key: at most 64 characters/],
    ["outside the pattern", "not a key", /^the Idempotency-Key header "not a key" is not a valid key: .*matching /],
  ])("answers a %s Idempotency-Key with 400 naming the header", async (_, key, message) => {
    const { status, body } = await placeV2(key);
    expect({ status, code: body.error.code }).toEqual({ status: 400, code: "INVALID_ARGUMENT" });
    expect(body.error.message).toMatch(message);
  });

  it("takes the key only from the header: in the body it is 400, as is a body without a delivery", async () => {
    const inBody = await placeV2(randomUUID(), { ...V2_ORDER, idempotencyKey: randomUUID() });
    expect(inBody.status).toBe(400);
    expect(inBody.body.error.message).toBe("idempotencyKey is not accepted in the body: the gateway sets it");
    const { delivery: _, ...undelivered } = V2_ORDER;
    const noDelivery = await placeV2(randomUUID(), undelivered);
    expect(noDelivery.status).toBe(400);
    expect(noDelivery.body.error.message).toContain("delivery");
  });

  it("streams a v2 order to APPROVED, then cancels it through v2", async () => {
    const { body } = await placeV2(randomUUID());
    const orderId: string = body.orderId;
    const response = await fetch(`${mesh.url}/api/v2/orders/${orderId}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(15_000),
    });
    const seen: Body[] = [];
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      for (const [, data] of text.matchAll(/event: order\ndata: (.*)\n\n/g)) seen.push(JSON.parse(data ?? "{}"));
      text = text.slice(text.lastIndexOf("\n\n") + 2);
      if (seen.at(-1)?.state === "APPROVED") break;
    }
    expect(seen.at(-1)).toMatchObject({ orderId, state: "APPROVED", delivery: V2_ORDER.delivery });

    const cancelled = await call(`${mesh.url}/api/v2/orders/${orderId}/cancel`, token, { method: "POST" });
    expect(cancelled).toMatchObject({ status: 202, body: { orderId, state: "CANCEL_PENDING" } });
    expect(deprecationOf(cancelled.headers).deprecation).toBeNull();
  });

  it("answers 404 to a consumer reading or cancelling another consumer's v2 order", async () => {
    const { body } = await placeV2(randomUUID());
    const stranger = await signIn(mesh.url, { consumerId: "c-1002" });
    const read = await call(`${mesh.url}/api/v2/orders/${body.orderId}`, stranger);
    const cancel = await call(`${mesh.url}/api/v2/orders/${body.orderId}/cancel`, stranger, { method: "POST" });
    expect([read.status, cancel.status]).toEqual([404, 404]);
  });
});

describe("the OpenAPI document of both versions", () => {
  let doc: Body;
  beforeAll(async () => {
    doc = (await call(`${mesh.url}/openapi.json`, undefined)).body;
  });

  it("stays valid OpenAPI 3.1", async () => {
    const validation = await new Validator().validate(doc);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);
  });

  it("marks every v1 order operation deprecated, with its answers' headers and their configured values", () => {
    const v1 = Object.entries(doc.paths as Record<string, Record<string, Body>>).filter(([path]) =>
      path.startsWith("/api/v1/orders"),
    );
    expect(v1.flatMap(([, operations]) => Object.keys(operations))).toHaveLength(5);
    for (const [path, operations] of v1) {
      for (const [method, operation] of Object.entries(operations)) {
        expect({ path, method, deprecated: operation.deprecated }).toEqual({ path, method, deprecated: true });
        for (const [status, response] of Object.entries(operation.responses as Record<string, Body>)) {
          const examples = Object.fromEntries(
            Object.entries((response.headers ?? {}) as Record<string, Body>).map(([name, header]) => [
              name.toLowerCase(),
              header.schema.examples[0],
            ]),
          );
          expect({ path, method, status, ...examples }).toEqual({ path, method, status, ...V1_HEADERS });
        }
      }
    }
    const others = Object.entries(doc.paths as Record<string, Record<string, Body>>)
      .filter(([path]) => !path.startsWith("/api/v1/orders"))
      .flatMap(([, operations]) => Object.values(operations));
    expect(others.filter((operation) => operation.deprecated)).toEqual([]);
  });

  it("documents v2: the Idempotency-Key header with the contract's limits, and v2's messages", () => {
    const create = doc.paths["/api/v2/orders"].post;
    expect(create.parameters).toContainEqual(
      expect.objectContaining({
        name: "Idempotency-Key",
        in: "header",
        required: true,
        schema: expect.objectContaining({ maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]*$" }),
      }),
    );
    const body = create.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties).sort()).toEqual(["delivery", "lineItems", "restaurantId"]);
    expect(body.required).toEqual(["restaurantId", "lineItems", "delivery"]);
    const schemas = doc.components.schemas;
    expect(schemas["ftgo.order.v2.LineItemRequest"].properties.specialInstructions).toMatchObject({ maxLength: 200 });
    expect(schemas["ftgo.order.v2.Delivery"].properties.deliverAt).toEqual({ type: "string", format: "date-time" });
    expect(schemas.OrderDetailsV2.properties.order).toEqual({ $ref: "#/components/schemas/ftgo.order.v2.Order" });
    expect(schemas["ftgo.order.v2.OrderState"].enum).toContain("APPROVED");
    expect(create.responses["202"].content["application/json"].schema.properties.state).toEqual({
      $ref: "#/components/schemas/ftgo.order.v2.OrderState",
    });
  });
});

describe("docs/gateway.md, two versions of the orders API", () => {
  // The page's outcome is stated with the default dates: a gateway of its own, configured with none.
  let defaults: GatewayMesh;
  beforeAll(async () => {
    defaults = await startGatewayMesh();
  });
  afterAll(() => defaults?.stop());

  it("runs the block as shown: v1 deprecated by default dates, one v2 order for two posts with a key, 400 without", async () => {
    const block = shBlock("docs/gateway.md", "Idempotency-Key");
    const script = block.text.replaceAll("127.0.0.1:8080", `127.0.0.1:${defaults.gateway.port}`);
    const TOKEN = await signIn(defaults.url, { consumerId: "c-1001" });
    const result = await runShell(`set -euo pipefail\n${script}`, { timeoutMs: 30_000, env: { TOKEN } });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const lines = result.stdout.split("\n").map((line) => line.trim());
    // Header names are case-insensitive (fastify sends them in lower case); their values are not.
    const headerLines = lines.map((line) => line.replace(/^[\w-]+:/, (name) => name.toLowerCase()));
    expect(headerLines).toContain("deprecation: @1796428800");
    expect(headerLines).toContain("sunset: Sat, 05 Jun 2027 00:00:00 GMT");
    expect(headerLines).toContain('link: </api/v2/orders>; rel="successor-version"');
    const answers = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    expect(answers).toEqual([
      { orderId: expect.any(String), state: "APPROVAL_PENDING" },
      { orderId: answers[0]?.orderId, state: expect.any(String) },
      {
        error: {
          code: "INVALID_ARGUMENT",
          message: expect.stringMatching(/^the Idempotency-Key header is required: /),
        },
      },
    ]);
  });
});
