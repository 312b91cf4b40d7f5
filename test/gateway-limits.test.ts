// The limits the contracts declare, seen from the edge: the gateway answers a violation with 400 and the
// service's message, and its OpenAPI document states the same limits, so a client that keeps to the
// document is never refused for its shape. Requests are generated from the document itself, at its limits.
import { type Body, call, type GatewayMesh, signIn, startGatewayMesh } from "@ftgo/harness/gateway-mesh.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Schema = Record<string, Body>;
type Extreme = "min" | "max";

/**
 * Characters an id may be made of, to build strings a pattern accepts; and, where no pattern forbids them,
 * characters of two and four bytes in UTF-8, so that a text at its longest is also at its heaviest.
 */
const CANDIDATE_CHARS = ["a", "Z", "7", "_", ".", ":", "-", "é", "🍜"];

describe("declared limits at the gateway", () => {
  let mesh: GatewayMesh;
  let token: string;
  let doc: Body;
  beforeAll(async () => {
    mesh = await startGatewayMesh();
    token = await signIn(mesh.url, { consumerId: "c-1001" });
    doc = (await call(`${mesh.url}/openapi.json`, undefined)).body;
  });
  afterAll(() => mesh?.stop());

  const resolve = (schema: Schema): Schema =>
    schema.$ref ? doc.components.schemas[String(schema.$ref).replace("#/components/schemas/", "")] : schema;

  /** A string of `length` characters the pattern accepts, using every character it allows once it can. */
  function stringOf(length: number, pattern: string | undefined): string {
    const accepts = (text: string) => pattern === undefined || new RegExp(pattern).test(text);
    const allowed = CANDIDATE_CHARS.filter((char) => accepts(`a${char}`));
    const text = Array.from({ length }, (_, i) => (i === 0 ? "a" : allowed[i % allowed.length])).join("");
    if (!accepts(text)) throw new Error(`cannot build a string of ${length} for ${pattern}`);
    return text;
  }

  /** A value the schema calls valid, every bound at its `extreme`. */
  function generate(raw: Schema, extreme: Extreme): unknown {
    const schema = resolve(raw);
    switch (schema.type) {
      case "object":
        return Object.fromEntries(
          Object.entries(schema.properties as Record<string, Schema>).map(([name, property]) => [
            name,
            generate(property, extreme),
          ]),
        );
      case "array": {
        const count = extreme === "max" ? (schema.maxItems ?? 3) : (schema.minItems ?? 0);
        return Array.from({ length: count }, () => generate(schema.items, extreme));
      }
      case "string":
        if (schema.format === "date-time") return new Date(Date.UTC(2030, 0, 1)).toISOString();
        return stringOf(extreme === "max" ? (schema.maxLength ?? 8) : (schema.minLength ?? 0), schema.pattern);
      case "integer":
        return extreme === "max" ? (schema.maximum ?? 1) : (schema.minimum ?? 0);
      default:
        throw new Error(`no generator for ${JSON.stringify(schema)}`);
    }
  }

  const createOrderBody = (path = "/api/v1/orders") =>
    doc.paths[path].post.requestBody.content["application/json"].schema;

  it("answers 400 with the service's message, naming the field and the rule, for a body over a declared limit", async () => {
    const { status, body } = await call(`${mesh.url}/api/v1/orders`, token, {
      method: "POST",
      body: { restaurantId: "r".repeat(65), lineItems: [{ menuItemId: "m-1", quantity: 1 }] },
    });
    expect({ status, body }).toEqual({
      status: 400,
      body: {
        error: {
          code: "INVALID_ARGUMENT",
          message: "restaurant_id: must be at most 64 characters [string.max_len]",
        },
      },
    });
  });

  it("states the contract's limits in the OpenAPI document", () => {
    const schema = createOrderBody();
    expect(schema.required).toEqual(["restaurantId", "lineItems"]);
    expect(schema.properties.restaurantId).toMatchObject({ maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]*$" });
    expect(schema.properties.lineItems).toMatchObject({ minItems: 1, maxItems: 50 });
    expect(resolve(schema.properties.lineItems.items).properties.quantity).toMatchObject({ minimum: 1, maximum: 100 });
  });

  it.each<Extreme>(["max", "min"])(
    "refuses no order body the document calls valid (every bound at its %s)",
    async (extreme) => {
      const request = generate(createOrderBody(), extreme);

      const { status, body } = await call(`${mesh.url}/api/v1/orders`, token, { method: "POST", body: request });

      // Ids of the right shape that name nothing are NOT_FOUND: a lookup, not a limit.
      expect({ status, body }).toEqual({
        status: 404,
        body: { error: { code: "NOT_FOUND", message: expect.any(String) } },
      });
    },
  );

  it.each<Extreme>(["max", "min"])(
    "refuses no v2 order, body and Idempotency-Key, the document calls valid (every bound at its %s)",
    async (extreme) => {
      const operation = doc.paths["/api/v2/orders"].post;
      const header = (operation.parameters as Body[]).find((p) => p.in === "header" && p.name === "Idempotency-Key");
      const key = stringOf(
        extreme === "max" ? header.schema.maxLength : header.schema.minLength,
        header.schema.pattern,
      );

      const { status, body } = await call(`${mesh.url}/api/v2/orders`, token, {
        method: "POST",
        body: generate(createOrderBody("/api/v2/orders"), extreme),
        headers: { "idempotency-key": key },
      });

      expect({ status, body }).toEqual({
        status: 404,
        body: { error: { code: "NOT_FOUND", message: expect.any(String) } },
      });
    },
  );

  it("refuses no path parameter the document calls valid, and refuses one just over its limit with 400", async () => {
    const checked: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, Body>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const bounded = (operation.parameters as Body[]).filter((p) => p.in === "path" && p.schema.maxLength);
        if (bounded.length === 0) continue;
        const url = (over: boolean) =>
          bounded.reduce(
            (at, p) => at.replace(`{${p.name}}`, stringOf(p.schema.maxLength + (over ? 1 : 0), p.schema.pattern)),
            `${mesh.url}${path}`,
          );
        const within = await call(url(false), token, { method: method.toUpperCase() });
        const over = await call(url(true), token, { method: method.toUpperCase() });
        expect({ path, method, status: within.status }).toEqual({ path, method, status: 404 });
        expect({ path, method, status: over.status }).toEqual({ path, method, status: 400 });
        expect(over.body.error.message).toMatch(/: must be at most \d+ characters \[string\.max_len\]$/);
        checked.push(`${method} ${path}`);
      }
    }
    // The routes with a handler of their own too: their orderId has GetOrder's limits (fuzz-http.test.ts found it bare).
    expect(checked.sort()).toEqual([
      "get /api/v1/orders/{orderId}",
      "get /api/v1/orders/{orderId}/events",
      "get /api/v1/restaurants/{restaurantId}/menu",
      "get /api/v2/orders/{orderId}",
      "get /api/v2/orders/{orderId}/events",
      "get /mobile/v1/orders/{orderId}",
      "post /api/v1/orders/{orderId}/cancel",
      "post /api/v2/orders/{orderId}/cancel",
    ]);
  });
});
