import { generateKeyPairSync } from "node:crypto";
import { type GatewayConfig, loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { type RunningService, SERVICE_NAMES, type ServiceName, silentLogger } from "@ftgo/platform";
import { vi } from "vitest";
import { startTestMesh, type TestMesh } from "./in-process-mesh.js";
import { startLoyalty } from "./loyalty-process.js";
import type { ServiceInstance } from "./service-instance.js";

/**
 * A parsed JSON response body. Tests read it as the shape they expect and let the assertions judge it, as
 * a client would; a wrong shape fails an assertion, not the type-checker.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Body = any;

/** The mesh, with a gateway in front, and a way to stop one service in the middle of a test. */
export interface GatewayMesh {
  readonly mesh: TestMesh;
  /** The Go Loyalty service (a process, on the mesh's NATS and data dir): the points leg of an order's details. */
  readonly loyalty: ServiceInstance;
  readonly gateway: RunningGateway;
  readonly config: GatewayConfig;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The Ed25519 key the gateway signs with (PKCS#8 PEM), so tests can forge tokens it should refuse. */
  readonly privateKeyPem: string;
  /** Stops one service for good (the rest of the mesh keeps running). */
  stopService(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the five services (startTestMesh), the Go Loyalty service beside them, and a gateway on a free port in
 * front of them all, as `make up` does.
 */
export async function startGatewayMesh(env: Record<string, string> = {}): Promise<GatewayMesh> {
  const mesh = await startTestMesh();
  let loyalty: ServiceInstance;
  try {
    loyalty = await startLoyalty({ dataDir: mesh.dataDir, natsUrl: mesh.nats.url });
  } catch (error) {
    await mesh.stop();
    throw error;
  }
  const privateKeyPem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const stopped = new Map<ServiceName, Promise<void>>();
  const stops = new Map(SERVICE_NAMES.map((name) => [name, mesh[name].stop] as const));
  const once = (name: ServiceName) => {
    if (!stopped.has(name)) stopped.set(name, stops.get(name)?.() ?? Promise.resolve());
    return stopped.get(name) as Promise<void>;
  };
  // Each service's stop() runs once, whether a test stopped it early or teardown stops it.
  for (const name of SERVICE_NAMES) Object.assign(mesh[name] as RunningService, { stop: () => once(name) });
  const config = loadGatewayConfig({
    PORT: "0",
    NATS_URL: mesh.nats.url,
    LOG_LEVEL: "silent",
    JWT_PRIVATE_KEY: privateKeyPem,
    ...env,
  });
  let gateway: RunningGateway | undefined;
  let url = "";
  try {
    gateway = await startGateway(config, silentLogger());
    url = `http://127.0.0.1:${gateway.port}`;
    // Ready when every service is discoverable and SERVING, as a load balancer would wait.
    await vi.waitFor(
      async () => {
        const response = await fetch(`${url}/readyz`);
        if (!response.ok) throw new Error(`gateway not ready: ${response.status} ${await response.text()}`);
      },
      { timeout: 15_000, interval: 50 },
    );
  } catch (error) {
    await gateway?.stop();
    await loyalty.stop();
    await mesh.stop();
    throw error;
  }
  const running = gateway;
  return {
    mesh,
    loyalty,
    gateway: running,
    config,
    url,
    privateKeyPem,
    stopService: once,
    async stop() {
      await running.stop();
      await loyalty.stop();
      await mesh.stop();
    },
  };
}

/** A dev token from the gateway's own sign-in. */
export async function signIn(url: string, who: { consumerId: string } | { role: "admin" }): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(who),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  const { accessToken } = (await response.json()) as { accessToken: string };
  return accessToken;
}

/** A JSON request with a bearer token; the parsed body (or null) with the response. */
export async function call(
  url: string,
  token: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const headers: Record<string, string> = { ...init.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** POST /api/v1/orders: places the seed order (2× m-1 + 1× m-3 at r-1, or m-10 at r-2) through the gateway; its id. */
export async function placeOrderThroughGateway(url: string, token: string, restaurantId = "r-1"): Promise<string> {
  const lineItems =
    restaurantId === "r-2"
      ? [{ menuItemId: "m-10", quantity: 1 }]
      : [
          { menuItemId: "m-1", quantity: 2 },
          { menuItemId: "m-3", quantity: 1 },
        ];
  const { status, body } = await call(`${url}/api/v1/orders`, token, {
    method: "POST",
    body: { restaurantId, lineItems },
  });
  if (status !== 202) throw new Error(`placing an order: ${status} ${JSON.stringify(body)}`);
  return body.orderId;
}

/** Polls the composed details until the order settles; the last details seen. */
export function detailsWhenSettled(
  url: string,
  token: string,
  orderId: string,
  until = (body: Body) => isSettled(body),
) {
  return vi.waitFor(
    async () => {
      const { status, body } = await call(`${url}/api/v1/orders/${orderId}`, token);
      if (status !== 200 || !until(body))
        throw new Error(`order ${orderId} not settled: ${status} ${JSON.stringify(body)}`);
      return body;
    },
    { timeout: 15_000, interval: 50 },
  );
}

const isSettled = (body: Body) =>
  ["APPROVED", "REJECTED"].includes(body.order.state) &&
  ["AWAITING_ACCEPTANCE", "CREATE_REJECTED"].includes(body.ticket?.state) &&
  ["AUTHORIZED", "DECLINED", "CANCELLED"].includes(body.payment?.state) &&
  ["EARNED", "NONE"].includes(body.points?.state);
