// The gateway under server-side discovery (DISCOVERY=server): it knows no service's address, only the
// router's (Traefik, routing from Consul's catalog, which the harness fills as the registrar). The services
// run with DISCOVERY=server too and so register nowhere themselves: the router is the gateway's one way to
// reach them, and an order placed over HTTP and read back as composed details proves its calls to Order,
// Kitchen and Accounting went through it.
import { generateKeyPairSync } from "node:crypto";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { call, placeOrderThroughGateway, signIn } from "@ftgo/harness/gateway-mesh.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import type { ServerSideDiscovery } from "@ftgo/harness/server-side-discovery.js";
import { silentLogger } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

let mesh: TestMesh;
let serverSide: ServerSideDiscovery;
let gateway: RunningGateway | undefined;
let url: string;
let token: string;

beforeAll(async () => {
  mesh = await startTestMesh({}, { discovery: "server" });
  if (!mesh.serverSide) throw new Error("the mesh was started without server-side discovery");
  serverSide = mesh.serverSide;
  const config = loadGatewayConfig({
    PORT: "0",
    NATS_URL: mesh.nats.url,
    LOG_LEVEL: "silent",
    DEV_SIGN_IN: "1",
    JWT_PRIVATE_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    ...serverSide.env,
  });
  gateway = await startGateway(config, silentLogger());
  url = `http://127.0.0.1:${gateway.port}`;
  token = await signIn(url, { consumerId: "c-1001" });
}, 180_000); // Consul and Traefik start too, and each service must be routed

afterAll(async () => {
  await gateway?.stop();
  await mesh?.stop();
});

describe("the gateway under DISCOVERY=server", () => {
  it("sees every service at the router's address, and at no other", async () => {
    const admin = await signIn(url, { role: "admin" });
    const { status, body } = await call(`${url}/api/v1/admin/services`, admin);
    expect(status).toBe(200);
    const addresses = Object.values(body as Record<string, { address: string }[]>).flatMap((list) =>
      list.map((instance) => instance.address),
    );
    expect(addresses.length).toBeGreaterThan(0);
    expect(new Set(addresses)).toEqual(new Set([serverSide.env.DISCOVERY_ROUTER]));
  });

  it("places an order and reads it back as composed details through the router", async () => {
    const orderId = await placeOrderThroughGateway(url, token);
    await vi.waitFor(
      async () => {
        const { status, body } = await call(`${url}/api/v1/orders/${orderId}`, token);
        expect(status).toBe(200);
        expect(body.order).toMatchObject({ orderId, state: "APPROVED", pricedFromLastKnownMenu: false });
        expect(body.ticket?.state).toBe("AWAITING_ACCEPTANCE");
        expect(body.payment?.state).toBe("AUTHORIZED");
        // Loyalty (a Go process) is not started here: its optional leg is the one the router cannot serve.
        expect(body.unavailable).toEqual(["points"]);
      },
      { timeout: 30_000, interval: 100 },
    );
  });

  it("answers 503 for a new order while the router has no Order, and places it again once Order is back", async () => {
    const at = { service: "order", address: "127.0.0.1", port: mesh.order.port };
    const routed = (servers: string[]) =>
      vi.waitFor(async () => expect(await serverSide.router.servers("order")).toEqual(servers), { timeout: 30_000 });
    // Registering the same process again replaces its entry (same id); deregistering that removes it.
    await (await serverSide.registrar.register(at)).deregister();
    await routed([]);
    const { status } = await call(`${url}/api/v1/orders`, token, {
      method: "POST",
      body: { restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] },
    });
    expect(status).toBe(503);
    await serverSide.registrar.register(at);
    await routed([`127.0.0.1:${at.port}`]);
    // The gateway's breaker for Order may have opened on that failure and its retries: its pause is within the wait.
    await vi.waitFor(async () => expect(await placeOrderThroughGateway(url, token)).toBeTruthy(), {
      timeout: 30_000,
      interval: 250,
    });
  });

  // The health check's path names no service (/grpc.health.v1.Health/Check): the gateway's mesh client names
  // its target in the ftgo-target header, and the router routes on that too.
  it("answers /readyz 200 once every service serves behind the router", async () => {
    await vi.waitFor(
      async () => {
        const { status, body } = await call(`${url}/readyz`, token);
        expect(body.services).toMatchObject({
          order: "SERVING",
          consumer: "SERVING",
          kitchen: "SERVING",
          accounting: "SERVING",
          delivery: "SERVING",
        });
        expect(status).toBe(200);
      },
      { timeout: 30_000, interval: 200 },
    );
  });
});
