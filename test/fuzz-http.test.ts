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
import {
  type Body,
  call,
  type GatewayMesh,
  placeOrderThroughGateway,
  signIn,
  startGatewayMesh,
} from "@ftgo/harness/gateway-mesh.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const RUNS = integerFrom("FUZZ_RUNS", 25);
const SEED = integerFrom("FUZZ_SEED", Math.floor(Math.random() * 0x7fff_ffff));
const REPLAY = `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`;
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
const counts = new Map<string, Map<string, number>>();
const startedAt = Date.now();

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
  report();
});

describe("every operation of /openapi.json, fuzzed from the document", () => {
  it("lists the operations this file fuzzes", () => {
    expect(operationsOf(doc).map(nameOf).sort()).toEqual(OPERATIONS.map(([name]) => name).sort());
  });

  it.each(OPERATIONS)(
    "%s: valid requests get a documented status and no 400, invalid ones a 4xx, errors their shape",
    async (name, index) => {
      const op = operationOf(name);
      const tally = tallyOf(name);
      const options = { tokens, hints, opaque, fresh: ["Idempotency-Key"] };
      const valid = fc.asyncProperty(validRequest(doc, op, options), async (request) => {
        const answer = await send(request);
        tally(request, answer.status);
        const said = describe_(request, answer);
        expect(answer.status, said).not.toBe(400);
        expect(documentedStatuses(op), said).toContain(answer.status);
        expect(answer.status, said).toBeLessThan(500);
        if (answer.status < 300) expect(answer.contentType, said).toBe(documentedType(op, answer.status));
        expectErrorShape(answer, said);
      });
      const invalid = fc.asyncProperty(invalidRequest(doc, op, options), async (request) => {
        const answer = await send(request);
        tally(request, answer.status);
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

function integerFrom(name: "FUZZ_RUNS" | "FUZZ_SEED", fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || (name === "FUZZ_RUNS" && value < 1)) {
    throw new Error(`${name}=${JSON.stringify(text)} is not ${name === "FUZZ_RUNS" ? "a positive" : "an"} integer`);
  }
  return value;
}

function tallyOf(name: string) {
  const tally = new Map<string, number>();
  counts.set(name, tally);
  return (request: HttpFuzzRequest, status: number) => {
    const key = `${request.kind} → ${status}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  };
}

/** The counts and the seed, printed once the file is done: what was sent, and how the gateway answered. */
function report(): void {
  const lines = [...counts].map(([name, tally]) => {
    const byStatus = new Map<string, number>();
    for (const [key, n] of tally) {
      const status = key.split(" → ")[1] as string;
      byStatus.set(status, (byStatus.get(status) ?? 0) + n);
    }
    const runs = [...tally.values()].reduce((a, b) => a + b, 0);
    return `  ${name}: ${runs} requests (${[...byStatus].map(([status, n]) => `${status} ${n}`).join(", ")})`;
  });
  const byKind = new Map<string, number>();
  for (const [key, n] of [...counts.values()].flatMap((tally) => [...tally])) {
    const kind = key.split(" → ")[0] as string;
    byKind.set(kind, (byKind.get(kind) ?? 0) + n);
  }
  lines.push(`  inputs: ${[...byKind].map(([kind, n]) => `${kind} ${n}`).join(", ")}`);
  const total = [...byKind.values()].reduce((a, b) => a + b, 0);
  console.log(
    `HTTP fuzz: ${REPLAY}, ${counts.size} operations, ${total} requests in ${Math.round((Date.now() - startedAt) / 1000)} s\n${lines.join("\n")}`,
  );
}
