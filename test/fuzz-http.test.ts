// Every operation of the gateway's /openapi.json, fuzzed from the document itself with fast-check
// (packages/harness/src/fuzz-openapi.ts) against a real mesh. Requests the document calls valid never get a
// 400, and get only statuses the document lists for the operation, in the media type it names; requests it
// calls invalid — broken schemas, huge and deeply nested bodies, bodies that are not JSON, wrong content
// types, unknown or repeated parameters, bad tokens, methods the path does not serve — get a 4xx. Nothing
// gets a 5xx (no backend is down here), and every error is `{"error":{"code","message"}}`. Replay a failure
// with the FUZZ_SEED its message names; FUZZ_RUNS sets the runs per operation and kind (valid, invalid).
import {
  documentedStatuses,
  type HttpFuzzRequest,
  invalidRequest,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  type Tokens,
  validRequest,
} from "@ftgo/harness/fuzz-openapi.js";
import { createFuzzTally, fuzzSettings } from "@ftgo/harness/fuzz-run.js";
import {
  type Body,
  call,
  detailsWhenSettled,
  type GatewayMesh,
  placeOrderThroughGateway,
  signIn,
  startGatewayMesh,
} from "@ftgo/harness/gateway-mesh.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const settings = fuzzSettings();
const { runs: RUNS, seed: SEED, replay: REPLAY } = settings;
/** Long enough for a busy 2-core machine; a request that takes longer hangs. */
const DEADLINE_MS = 10_000;
/** Shrinking a failure makes more requests; it stops after this long and reports the smallest case by then. */
const SHRINK_MS = 30_000;

/** The operations, as the document read without a server lists them (the test names must exist before it). */
const OPERATIONS = [
  "POST /api/v1/auth/token",
  "GET /.well-known/jwks.json",
  "POST /api/v1/orders",
  "GET /api/v1/orders",
  "GET /api/v1/orders/{orderId}",
  "POST /api/v1/orders/{orderId}/cancel",
  "GET /api/v1/orders/{orderId}/events",
  "POST /api/v2/orders",
  "GET /api/v2/orders",
  "GET /api/v2/orders/{orderId}",
  "POST /api/v2/orders/{orderId}/cancel",
  "GET /api/v2/orders/{orderId}/events",
  "GET /api/v1/restaurants/{restaurantId}/menu",
  "GET /mobile/v1/orders/{orderId}",
  "GET /api/v1/admin/services",
  "GET /openapi.json",
  "GET /asyncapi.json",
  "GET /healthz",
  "GET /readyz",
].map((name, index) => [name, index] as const);

let mesh: GatewayMesh;
let doc: OpenApiDocument;
let tokens: Tokens;
let hints: Record<string, readonly string[]>;
let opaque: Record<string, readonly string[]>;
/** Per operation: how many requests of each kind got each status. */
const tallies = createFuzzTally(settings);

beforeAll(async () => {
  mesh = await startGatewayMesh({
    // Thousands of requests from one address and two callers: the limits are other tests' business.
    EDGE_RATE_LIMIT_RPS: "100000",
    EDGE_RATE_LIMIT_BURST: "100000",
    RATE_LIMIT_RPS: "100000",
    RATE_LIMIT_BURST: "100000",
    SSE_MAX_PER_CALLER: "1000",
  });
  const [consumer, admin] = await Promise.all([
    signIn(mesh.url, { consumerId: "c-1001" }),
    signIn(mesh.url, { role: "admin" }),
  ]);
  tokens = { consumer, admin };
  const orderId = await placeOrderThroughGateway(mesh.url, consumer);
  hints = {
    orderId: [orderId],
    restaurantId: ["r-1", "r-2"],
    menuItemId: ["m-1", "m-3"],
    consumerId: ["c-1001", "c-1003"],
  };
  // A page token is the server's to issue, for one caller's listing: the valid one for every caller is none.
  opaque = { pageToken: [""] };
  doc = (await call(`${mesh.url}/openapi.json`, undefined)).body;
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
  console.log(tallies.report("HTTP fuzz", { targets: "operations", units: "requests" }));
});

describe("every operation of /openapi.json, fuzzed from the document", () => {
  it("lists the operations this file fuzzes", () => {
    expect(operationsOf(doc).map(nameOf).sort()).toEqual(OPERATIONS.map(([name]) => name).sort());
  });

  it.each(OPERATIONS)(
    "%s: valid requests get a documented status and no 400, invalid ones a 4xx, errors their shape",
    async (name, index) => {
      const op = operationOf(name);
      const tally = tallies.of(name);
      const options = { tokens, hints, opaque, fresh: ["Idempotency-Key"] };
      const valid = fc.asyncProperty(validRequest(doc, op, options), async (request) => {
        const answer = await send(request);
        tally(request.kind, String(answer.status));
        const said = describe_(request, answer);
        expect(answer.status, said).not.toBe(400);
        expect(documentedStatuses(op), said).toContain(answer.status);
        expect(answer.status, said).toBeLessThan(500);
        if (answer.status < 300) expect(answer.contentType, said).toBe(documentedType(op, answer.status));
        expectErrorShape(answer, said);
      });
      const invalid = fc.asyncProperty(invalidRequest(doc, op, options), async (request) => {
        const answer = await send(request);
        tally(request.kind, String(answer.status));
        const said = describe_(request, answer);
        expect(answer.status, said).toBeGreaterThanOrEqual(400);
        expect(answer.status, said).toBeLessThan(500);
        expectErrorShape(answer, said);
        if (request.kind === "wrong-method") {
          expect(answer.status, said).toBe(405);
          expect(answer.allow, said).toBe(allowOf(op));
        }
      });
      // Each operation its own seeds, derived from FUZZ_SEED: the operations do not all see the same shapes.
      await assertReplayable(name, valid, SEED + 2 * index);
      await assertReplayable(name, invalid, SEED + 2 * index + 1);
    },
    2 * SHRINK_MS + 60_000,
  );
});

describe("the cases fuzzing found, kept as they were found", () => {
  it("answers a known path called with a method it does not serve 405 with Allow, before reading the body", async () => {
    // fastify answered 404 NOT_FOUND, as for a path that does not exist; a PUT with an empty JSON body got 400.
    const cases = [
      ["POST", "/healthz", {}, "GET, HEAD"],
      ["DELETE", "/api/v1/orders/o-1", {}, "GET, HEAD"],
      ["PUT", "/api/v1/orders", { "content-type": "application/json" }, "GET, HEAD, POST"],
      ["HEAD", "/api/v2/orders/o-1/cancel", {}, "POST"],
    ] as const;
    for (const [method, path, headers, allow] of cases) {
      const response = await fetch(`${mesh.url}${path}`, { method, headers });
      const text = await response.text();

      expect({ path, status: response.status, allow: response.headers.get("allow") }).toEqual({
        path,
        status: 405,
        allow,
      });
      if (method !== "HEAD") expect(JSON.parse(text)).toMatchObject({ error: { code: "METHOD_NOT_ALLOWED" } });
    }
  });

  it("declares an int32 query parameter's bounds, and refuses one past them", async () => {
    // pageSize=2147483648 was valid by the document (minimum 0, no maximum) and refused by the protobuf reader.
    const pageSize = operationOf("GET /api/v2/orders").operation.parameters.find((p: Body) => p.name === "pageSize");
    expect(pageSize.schema).toMatchObject({ type: "integer", minimum: 0, maximum: 2 ** 31 - 1 });

    const { status } = await call(`${mesh.url}/api/v2/orders?pageSize=2147483648`, tokens.consumer);

    expect(status).toBe(400);
    expect((await call(`${mesh.url}/api/v2/orders?pageSize=2147483647`, tokens.consumer)).status).toBe(200);
  });

  it.each(["1e3", "0x10", " 1", "1.5"])(
    "refuses pageSize=%j: an integer parameter is written in decimal digits",
    async (value) => {
      // "1e3", "0x10" and " 1" were read as 1000, 16 and 1 by the protobuf JSON reader.
      const { status, body } = await call(
        `${mesh.url}/api/v1/orders?pageSize=${encodeURIComponent(value)}`,
        tokens.consumer,
      );

      expect(status).toBe(400);
      expect(body.error.code).toBe("INVALID_ARGUMENT");
    },
  );

  it.each(["/api/v1/orders/{orderId}", "/api/v2/orders/{orderId}/events", "/mobile/v1/orders/{orderId}"])(
    "declares %s's orderId with the limits of GetOrder's, so an empty one is invalid by the document too",
    async (path) => {
      // The parameter was a bare string; "" (GET /api/v1/orders/) got 400 "order_id: value is required".
      const orderIdParam = operationOf(`GET ${path}`).operation.parameters.find((p: Body) => p.name === "orderId");
      expect(orderIdParam.schema).toMatchObject({
        type: "string",
        minLength: 1,
        maxLength: 64,
        pattern: expect.any(String),
      });

      const { status } = await call(`${mesh.url}${path.replace("{orderId}", "")}`, tokens.consumer);

      expect(status).toBe(400);
    },
  );

  it("declares the sign-in body as one of a consumer or an admin, so an empty object is invalid by the document", async () => {
    // The schema had two optional properties: {} was valid by it, and refused.
    const schema = operationOf("POST /api/v1/auth/token").operation.requestBody.content["application/json"].schema;
    expect(schema.oneOf.map((branch: Body) => branch.required)).toEqual([["consumerId"], ["role"]]);

    const { status } = await call(`${mesh.url}/api/v1/auth/token`, undefined, { method: "POST", body: {} });

    expect(status).toBe(400);
  });

  it("documents 409 on cancelling an order that is not APPROVED, and answers it", async () => {
    // Order's FAILED_PRECONDITION became 409, which the document did not list.
    expect(documentedStatuses(operationOf("POST /api/v2/orders/{orderId}/cancel"))).toContain(409);
    const orderId = await placeOrderThroughGateway(mesh.url, tokens.consumer);
    await detailsWhenSettled(mesh.url, tokens.consumer, orderId);
    const cancel = () => call(`${mesh.url}/api/v2/orders/${orderId}/cancel`, tokens.consumer, { method: "POST" });

    expect((await cancel()).status).toBe(202);
    const again = await cancel();

    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("FAILED_PRECONDITION");
  });

  it("refuses a query parameter on a route that takes none, as the routes that take some do", async () => {
    // /openapi.json?x=, /healthz?x= and the other routes with a handler of their own ignored any parameter.
    for (const path of ["/openapi.json?x=", "/healthz?debug=1", "/api/v1/admin/services?all=true"]) {
      const { status, body } = await call(`${mesh.url}${path}`, tokens.admin);

      expect({ path, status, code: body.error.code }).toEqual({ path, status: 400, code: "INVALID_ARGUMENT" });
    }
  });

  it("describes an event stream as Server-Sent Events whose order events carry the order", () => {
    // It was `type: string` with a one-line description: a generated client knew nothing of the events.
    const content = operationOf("GET /api/v2/orders/{orderId}/events").operation.responses["200"].content;

    expect(Object.keys(content)).toEqual(["text/event-stream"]);
    expect(content["text/event-stream"].schema).toMatchObject({
      type: "string",
      contentMediaType: "text/event-stream",
      "x-ftgo-events": { order: { $ref: "#/components/schemas/ftgo.order.v2.Order" }, end: {}, error: {} },
    });
  });
});

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly allow: string | null;
  readonly text: string;
}

/** One request; an event stream is read as far as its headers, then let go. */
async function send(request: HttpFuzzRequest): Promise<Answer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer in ${DEADLINE_MS} ms`)), DEADLINE_MS);
  try {
    const response = await fetch(`${mesh.url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: abort.signal,
    });
    const contentType = (response.headers.get("content-type") ?? "").split(";")[0] ?? "";
    const text = contentType === "text/event-stream" ? "" : await response.text();
    if (contentType === "text/event-stream") abort.abort();
    return { status: response.status, contentType, allow: response.headers.get("allow"), text };
  } finally {
    clearTimeout(timer);
  }
}

function expectErrorShape(answer: Answer, said: string): void {
  if (answer.status < 400) return;
  expect(answer.contentType, said).toBe("application/json");
  const body: Body = JSON.parse(answer.text);
  expect(body, said).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  expect(body.error.code, said).toMatch(/^[A-Z_]+$/);
}

/** The media type the document names for a status of the operation. */
function documentedType(op: Operation, status: number): string | undefined {
  return Object.keys(op.operation.responses?.[String(status)]?.content ?? {})[0];
}

/** What a 405 names: the methods the document serves at the path, and HEAD wherever GET is. */
function allowOf(op: Operation): string {
  return [...op.allowed, ...(op.allowed.includes("GET") ? ["HEAD"] : [])].sort().join(", ");
}

/** Runs the property; a failure names the seed (and the runs) that replay it. */
async function assertReplayable<T>(name: string, property: fc.IAsyncProperty<T>, seed: number): Promise<void> {
  try {
    await fc.assert(property, {
      seed,
      numRuns: RUNS,
      interruptAfterTimeLimit: SHRINK_MS,
      markInterruptAsFailure: true,
    });
  } catch (err) {
    throw new Error(`${name}: replay with ${REPLAY}\n${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

function describe_(request: HttpFuzzRequest, answer: Answer): string {
  const body = request.body === undefined ? "" : ` ${request.body.slice(0, 300)}`;
  return (
    `${request.kind}: ${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers)}${body}` +
    ` → ${answer.status} ${answer.contentType} ${answer.text.slice(0, 300)} (${REPLAY})`
  );
}

function operationOf(name: string): Operation {
  const op = operationsOf(doc).find((candidate) => nameOf(candidate) === name);
  if (!op) throw new Error(`${name} is not in /openapi.json`);
  return op;
}

const nameOf = (op: Operation) => `${op.method} ${op.path}`;
