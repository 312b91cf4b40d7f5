// Issue 17 §2, the gateway's hardened edges, against real gateways. Most need no service behind the gateway
// (a limit, a refused token, an unknown path are answered at the edge), so each such test starts a gateway
// of its own on the suite's nats-server with the settings it is about.
import { generateKeyPairSync } from "node:crypto";
import { connect, type Socket } from "node:net";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { type GatewayMesh, placeOrderThroughGateway, signIn, startGatewayMesh } from "@ftgo/harness/gateway-mesh.js";
import { silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

const gateways: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
});

/** A gateway with no services behind it, on the suite's nats-server; its base URL. */
async function edgeGateway(env: Record<string, string> = {}): Promise<string> {
  const config = loadGatewayConfig({
    PORT: "0",
    FTGO_HOST: "127.0.0.1",
    NATS_URL: inject("natsUrl"),
    LOG_LEVEL: "silent",
    JWT_PRIVATE_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    DEV_SIGN_IN: "1",
    ...env,
  });
  const gateway = await startGateway(config, silentLogger());
  gateways.push(gateway);
  return `http://127.0.0.1:${gateway.port}`;
}

type ErrorBody = { error: { code: string; message: string } };

describe("the edge rate limit, per client address, before authentication", () => {
  const limited = { EDGE_RATE_LIMIT_RPS: "1", EDGE_RATE_LIMIT_BURST: "10" };

  it("answers a flood of invalid tokens with 429 once the address's bucket is empty", async () => {
    const url = await edgeGateway(limited);
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 15; i++) {
      const response = await fetch(`${url}/api/v1/orders`, { headers: { authorization: "Bearer not.a.token" } });
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
      else await response.body?.cancel();
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(11)).toEqual([429, 429, 429, 429]);
    expect(refused?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refused?.headers.get("ratelimit-limit")).toBe("10");
    expect(refused?.headers.get("ratelimit-remaining")).toBe("0");
    expect(await refused?.json()).toMatchObject({ error: { code: "RATE_LIMITED" } });
  });

  it("counts unknown routes, /rpc and /dashboard in the same bucket", async () => {
    const url = await edgeGateway(limited);
    const paths = ["/no/such/route", "/rpc/ftgo.kitchen.v1.KitchenService/GetMenu", "/dashboard", "/healthz"];
    const statuses = new Map<string, number[]>(paths.map((path) => [path, []]));
    for (let i = 0; i < 5; i++) {
      for (const path of paths) {
        const response = await fetch(`${url}${path}`);
        statuses.get(path)?.push(response.status);
        await response.body?.cancel();
      }
    }
    // 20 requests, 10 tokens (and perhaps one refilled): every kind of path is refused by the end.
    for (const path of paths) expect(statuses.get(path)?.at(-1), path).toBe(429);
    expect((await fetch(`${url}/no/such/route`)).status).toBe(429);
  });

  it("leaves a burst of 200 requests from one address alone with the defaults", async () => {
    const url = await edgeGateway();
    // Unknown routes: only the edge limit applies to them (an anonymous caller's own bucket holds 40).
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () => fetch(`${url}/no/such/route`).then((response) => response.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([404]));
  });
});

describe("authentication", () => {
  it("accepts the bearer scheme in any case (RFC 7235)", async () => {
    const url = await edgeGateway();
    const token = await signIn(url, { role: "admin" });
    for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
      const response = await fetch(`${url}/api/v1/admin/services`, {
        headers: { authorization: `${scheme} ${token}` },
      });
      // Past authentication and authorization: no service behind this gateway, so no 401 and no 403.
      expect([scheme, response.status]).not.toEqual([scheme, 401]);
      expect([scheme, response.status]).not.toEqual([scheme, 403]);
    }
    const wrong = await fetch(`${url}/api/v1/admin/services`, { headers: { authorization: `Basic ${token}` } });
    expect(wrong.status).toBe(401);
  });
});

describe("the per-caller rate limit", () => {
  it("gives a consumer whose id is `admin` a bucket of its own, not the administrator's", async () => {
    const url = await edgeGateway({ RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "5" });
    const impostor = await signIn(url, { consumerId: "admin" });
    const admin = await signIn(url, { role: "admin" });
    const healthz = (token: string) =>
      fetch(`${url}/healthz`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.status);
    const flood: number[] = [];
    for (let i = 0; i < 8; i++) flood.push(await healthz(impostor));
    expect(flood.at(-1)).toBe(429);
    expect(await healthz(admin)).toBe(200);
  });
});

describe("requests the gateway cannot route", () => {
  /** The raw answer of one HTTP/1.1 request written by hand (fetch refuses some of these URLs). */
  async function raw(url: string, requestLine: string): Promise<{ status: number; type: string; body: string }> {
    const { port } = new URL(url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.write(`${requestLine}\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const [head = "", body = ""] = text.split("\r\n\r\n", 2);
    return {
      status: Number(head.split(" ")[1]),
      type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? "",
      body,
    };
  }

  it("answers a 10 KB path with 414 in the gateway's error shape, not the URL echoed", async () => {
    const url = await edgeGateway();
    const long = "a".repeat(10_000);
    for (const path of [`/${long}`, `/api/v1/orders/${long}`, `/rpc/${long}`, `/healthz?${long}`]) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      expect([path.slice(0, 20), response.status]).toEqual([path.slice(0, 20), 414]);
      expect((JSON.parse(text) as ErrorBody).error.code).toBe("URI_TOO_LONG");
      expect(text.length).toBeLessThan(300);
    }
  });

  it("answers a path parameter too long, a malformed URL and headers too large as JSON errors", async () => {
    const url = await edgeGateway();
    const param = await fetch(`${url}/api/v1/orders/${"a".repeat(200)}`);
    expect([param.status, ((await param.json()) as ErrorBody).error.code]).toEqual([414, "URI_TOO_LONG"]);
    const malformed = await raw(url, "GET /api/v1/orders/%E0%A4%A HTTP/1.1");
    expect([malformed.status, (JSON.parse(malformed.body) as ErrorBody).error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const huge = await raw(url, `GET /${"a".repeat(20_000)} HTTP/1.1`);
    expect(huge.status).toBe(431);
    expect(huge.type).toMatch(/^application\/json/);
    expect((JSON.parse(huge.body) as ErrorBody).error.code).toBe("REQUEST_HEADER_FIELDS_TOO_LARGE");
  });
});

describe("the development sign-in", () => {
  const signInResponse = (url: string) =>
    fetch(`${url}/api/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "admin" }),
    });
  const documentedPaths = async (url: string) =>
    Object.keys(((await (await fetch(`${url}/openapi.json`)).json()) as { paths: object }).paths);

  it("is off unless DEV_SIGN_IN=1: the token route is 404 and left out of /openapi.json", async () => {
    const url = await edgeGateway({ DEV_SIGN_IN: "" }); // unset: the default
    const response = await signInResponse(url);
    expect([response.status, ((await response.json()) as ErrorBody).error.code]).toEqual([404, "NOT_FOUND"]);
    const paths = await documentedPaths(url);
    expect(paths).not.toContain("/api/v1/auth/token");
    expect(paths).toContain("/api/v1/orders");
  });

  it("signs in and is documented with DEV_SIGN_IN=1", async () => {
    const url = await edgeGateway({ DEV_SIGN_IN: "1" });
    expect((await signInResponse(url)).status).toBe(200);
    expect(await documentedPaths(url)).toContain("/api/v1/auth/token");
  });

  it("refuses a DEV_SIGN_IN that is neither 0 nor 1 at start", () => {
    expect(() => loadGatewayConfig({ DEV_SIGN_IN: "yes" })).toThrow(/DEV_SIGN_IN/);
  });
});

describe("slow clients (slowloris)", () => {
  const timeouts = { HEADERS_TIMEOUT_MS: "1000", REQUEST_TIMEOUT_MS: "2000" };

  /** A connection to the gateway, and a promise of everything it received until the gateway closed it. */
  function open(url: string): { socket: Socket; received: Promise<string> } {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    socket.on("error", () => {}); // a reset while trickling is one way of being cut off
    const received = new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.once("close", () => resolve(Buffer.concat(chunks).toString()));
    });
    return { socket, received };
  }

  it("serves a normal client while 100 connections trickle their headers, and cuts those off at the deadline", async () => {
    const url = await edgeGateway(timeouts);
    const loris = Array.from({ length: 100 }, () => open(url));
    for (const { socket } of loris) socket.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    const trickle = setInterval(() => {
      for (const { socket } of loris) if (!socket.destroyed) socket.write("x-slow: 1\r\n");
    }, 200);
    try {
      const response = await fetch(`${url}/healthz`);
      expect(response.status).toBe(200);
      const answers = await Promise.all(loris.map(({ received }) => received));
      for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answers[0]).toContain('"REQUEST_TIMEOUT"');
    } finally {
      clearInterval(trickle);
      for (const { socket } of loris) socket.destroy();
    }
  });

  it("cuts off a body sent a byte at a time once the request deadline passes", async () => {
    const url = await edgeGateway(timeouts);
    const { socket, received } = open(url);
    socket.write(
      "POST /api/v1/auth/token HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n",
    );
    const body = '{"consumerId": "c-1001"}'.padEnd(100, " ");
    let sent = 0;
    const startedAt = performance.now();
    const trickle = setInterval(() => {
      if (!socket.destroyed && sent < body.length) socket.write(body[sent++] ?? " ");
    }, 300);
    try {
      const answer = await received;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      // Cut off at the deadline, long before the body's 100 bytes at 300 ms each (30 s) were in.
      expect(sent).toBeLessThan(20);
      expect(performance.now() - startedAt).toBeLessThan(10_000);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});

describe("event streams per caller", () => {
  let mesh: GatewayMesh;
  beforeAll(async () => {
    mesh = await startGatewayMesh({ SSE_MAX_PER_CALLER: "3" });
  });
  afterAll(() => mesh?.stop());

  /** Opens an order's event stream; resolves once the gateway answered (and, for a 200, sent its first line). */
  async function openEvents(orderId: string, token: string, version = "v1") {
    const controller = new AbortController();
    const response = await fetch(`${mesh.url}/api/${version}/orders/${orderId}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    if (response.status === 200) await response.body?.getReader().read(); // ": watching the order"
    return { response, close: () => controller.abort() };
  }

  it("refuses a caller's stream past SSE_MAX_PER_CALLER with 429, and frees a slot when one closes", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    const streams = [await openEvents(orderId, token), await openEvents(orderId, token, "v2")];
    streams.push(await openEvents(orderId, token));
    try {
      expect(streams.map(({ response }) => response.status)).toEqual([200, 200, 200]);
      const refused = await openEvents(orderId, token, "v2");
      expect(refused.response.status).toBe(429);
      expect(await refused.response.json()).toEqual({
        error: {
          code: "TOO_MANY_STREAMS",
          message: "this caller already has 3 event streams open, the most allowed: close one first",
        },
      });
      // Another consumer has slots of their own (their own order, so that the stream is theirs to open).
      const other = await signIn(mesh.url, { consumerId: "c-1002" });
      const theirs = await openEvents(await placeOrderThroughGateway(mesh.url, other), other);
      streams.push(theirs);
      expect(theirs.response.status).toBe(200);

      streams[0]?.close();
      // The gateway learns of the close when the connection ends: poll until the slot is free.
      const reopened = await waitFor(
        async () => {
          const attempt = await openEvents(orderId, token);
          if (attempt.response.status === 200) return attempt;
          await attempt.response.body?.cancel();
          return undefined;
        },
        { timeoutMs: 5_000, intervalMs: 20, message: "a slot freed by the closed stream" },
      );
      streams.push(reopened);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
