import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import {
  call,
  detailsWhenSettled,
  type GatewayMesh,
  placeOrderThroughGateway,
  signIn,
  startGatewayMesh,
} from "@ftgo/harness/gateway-mesh.js";
import { decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("authentication and authorization at the gateway", () => {
  let mesh: GatewayMesh;
  let good: string;
  beforeAll(async () => {
    mesh = await startGatewayMesh();
    good = await signIn(mesh.url, { consumerId: "c-1001" });
  });
  afterAll(() => mesh?.stop());

  /** A token like the gateway's own, with `change` applied to its claims, header or key. */
  async function forge(change: {
    claims?: object;
    header?: object;
    key?: Parameters<SignJWT["sign"]>[0];
    alg?: string;
  }) {
    const { kid } = decodeProtectedHeader(good);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: "c-1001",
      role: "consumer",
      iss: mesh.config.auth.issuer,
      aud: mesh.config.auth.audience,
      iat: now,
      nbf: now,
      exp: now + 600,
      ...change.claims,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: change.alg ?? "EdDSA", kid, ...change.header })
      .sign(change.key ?? createPrivateKey(mesh.privateKeyPem));
  }

  const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

  it("accepts its own token, and a token forged with its key (the forging is right)", async () => {
    expect((await call(`${mesh.url}/api/v1/orders`, good)).status).toBe(200);
    expect((await call(`${mesh.url}/api/v1/orders`, await forge({}))).status).toBe(200);
  });

  it("refuses every way around a token with 401 and a Bearer challenge", async () => {
    const [header, payload, signature] = good.split(".");
    const publicPem = createPublicKey(createPrivateKey(mesh.privateKeyPem)).export({ type: "spki", format: "pem" });
    const now = Math.floor(Date.now() / 1000);
    const variants: Record<string, string | undefined> = {
      "no token": undefined,
      garbage: "not-a-jwt",
      "alg none": `${base64url({ alg: "none", typ: "JWT" })}.${payload}.`,
      "wrong key": await forge({ key: generateKeyPairSync("ed25519").privateKey }),
      "HS256 with the public key as secret": await forge({
        alg: "HS256",
        key: new TextEncoder().encode(publicPem.toString()),
      }),
      "wrong issuer": await forge({ claims: { iss: "someone-else" } }),
      "wrong audience": await forge({ claims: { aud: "another-api" } }),
      expired: await forge({ claims: { iat: now - 7200, nbf: now - 7200, exp: now - 3600 } }),
      "not yet valid": await forge({ claims: { nbf: now + 3600 } }),
      "tampered payload": `${header}.${base64url({ ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), sub: "c-1002" })}.${signature}`,
    };
    for (const [name, token] of Object.entries(variants)) {
      const { status, headers, body } = await call(`${mesh.url}/api/v1/orders`, token);
      expect({ name, status }).toEqual({ name, status: 401 });
      expect(headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(body.error.code).toBe("UNAUTHENTICATED");
      if (token !== undefined) expect(headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  it("answers 404 to a consumer reading or cancelling another consumer's order", async () => {
    const orderId = await placeOrderThroughGateway(mesh.url, good);
    const other = await signIn(mesh.url, { consumerId: "c-1002" });
    for (const [method, path] of [
      ["GET", `/api/v1/orders/${orderId}`],
      ["GET", `/mobile/v1/orders/${orderId}`],
      ["GET", `/api/v1/orders/${orderId}/events`],
      ["POST", `/api/v1/orders/${orderId}/cancel`],
    ] as const) {
      const { status, body } = await call(`${mesh.url}${path}`, other, { method });
      expect({ path, status }).toEqual({ path, status: 404 });
      expect(JSON.stringify(body)).not.toContain("c-1001");
    }
    expect((await call(`${mesh.url}/api/v1/orders/${orderId}`, good)).status).toBe(200);
  });

  it("lets a consumer cancel their own approved order: the Cancel Order saga runs to CANCELLED", async () => {
    const orderId = await placeOrderThroughGateway(mesh.url, good);
    await detailsWhenSettled(mesh.url, good, orderId, (body) => body.order?.state === "APPROVED");
    const cancel = await call(`${mesh.url}/api/v1/orders/${orderId}/cancel`, good, { method: "POST" });
    expect(cancel.status).toBeLessThan(300);
    const details = await detailsWhenSettled(mesh.url, good, orderId, (body) => body.order?.state === "CANCELLED");
    expect(details.order.state).toBe("CANCELLED");
    // Cancelling again is a state conflict, reported as such.
    expect((await call(`${mesh.url}/api/v1/orders/${orderId}/cancel`, good, { method: "POST" })).status).toBe(409);
  });

  it("refuses an order placed with an admin token: 403, since an administrator orders for nobody", async () => {
    const admin = await signIn(mesh.url, { role: "admin" });
    const { status, body } = await call(`${mesh.url}/api/v1/orders`, admin, {
      method: "POST",
      body: { restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] },
    });
    expect(status).toBe(403);
    expect(body.error.code).toBe("PERMISSION_DENIED");
  });

  it("keeps the admin route for admins: 403 for a consumer, the registry with breaker states for an admin", async () => {
    const forConsumer = await call(`${mesh.url}/api/v1/admin/services`, good);
    expect(forConsumer.status).toBe(403);
    expect(forConsumer.body.error.code).toBe("PERMISSION_DENIED");

    const admin = await signIn(mesh.url, { role: "admin" });
    const { status, body } = await call(`${mesh.url}/api/v1/admin/services`, admin);
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["accounting", "consumer", "delivery", "kitchen", "loyalty", "order"]);
    expect(body.order[0]).toMatchObject({ address: expect.any(String), breaker: "closed" });
  });
});
