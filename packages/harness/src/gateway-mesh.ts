import { generateKeyPairSync } from "node:crypto";
import { type GatewayConfig, loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { type RunningService, SERVICE_NAMES, type ServiceName, silentLogger } from "@ftgo/platform";
import { vi } from "vitest";
import { type Body, call } from "./gateway-calls.js";
import { startTestMesh, type TestMesh } from "./in-process-mesh.js";
import { startLoyalty } from "./loyalty-process.js";
import type { ServiceInstance } from "./service-instance.js";

export { type Body, call, placeOrderThroughGateway, signIn } from "./gateway-calls.js";

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
    // The tests sign in through the gateway's own development sign-in, off unless asked for.
    DEV_SIGN_IN: "1",
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
