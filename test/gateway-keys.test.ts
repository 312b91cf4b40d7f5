// Issue 17 §2: the gateway's signing keys from files, rotated by `kid`, and published as a JWK Set, against a
// real gateway (no service behind it: signing in and the key set are answered at the edge).
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { ConfigError, silentLogger } from "@ftgo/platform";
import { decodeProtectedHeader } from "jose";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "ftgo-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const gateways: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
});

/** A new Ed25519 key: its private PEM written to a file, and its public PEM. */
function keyFile(name: string): { path: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const path = join(dir, name);
  writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }));
  return { path, publicPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

const baseEnv = () => ({ PORT: "0", FTGO_HOST: "127.0.0.1", NATS_URL: inject("natsUrl"), DEV_SIGN_IN: "1" });

async function gatewayWith(env: Record<string, string>): Promise<string> {
  const gateway = await startGateway(loadGatewayConfig({ ...baseEnv(), ...env }), silentLogger());
  gateways.push(gateway);
  return `http://127.0.0.1:${gateway.port}`;
}

async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ consumerId: "c-1001" }),
  });
  return ((await response.json()) as { accessToken: string }).accessToken;
}

const ordersWith = (url: string, token: string) =>
  fetch(`${url}/api/v1/orders/no-such-order/cancel`, { method: "POST", headers: { authorization: `Bearer ${token}` } });

describe("the gateway's signing keys", () => {
  it("rotates: the new gateway signs with the new key, accepts the old key's token, and publishes both", async () => {
    const [oldKey, newKey] = [keyFile("old.pem"), keyFile("new.pem")];
    const before = await gatewayWith({ JWT_PRIVATE_KEY_FILE: oldKey.path });
    const oldToken = await signIn(before);
    const previous = join(dir, "previous.pem");
    writeFileSync(previous, oldKey.publicPem);

    const after = await gatewayWith({ JWT_PRIVATE_KEY_FILE: newKey.path, JWT_PREVIOUS_PUBLIC_KEYS_FILE: previous });
    const newToken = await signIn(after);
    const jwks = await fetch(`${after}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const { keys } = (await jwks.json()) as { keys: { kid: string; alg: string; use: string }[] };
    expect(keys.map(({ kid, alg, use }) => ({ kid, alg, use }))).toEqual([
      { kid: decodeProtectedHeader(newToken).kid, alg: "EdDSA", use: "sig" },
      { kid: decodeProtectedHeader(oldToken).kid, alg: "EdDSA", use: "sig" },
    ]);
    // Authenticated either way: what follows the token check is the services' answer (none behind it), not a 401.
    for (const token of [oldToken, newToken]) expect((await ordersWith(after, token)).status).not.toBe(401);
    expect((await ordersWith(after, "a.b.c")).status).toBe(401);
  });

  it("lists the key set in the OpenAPI document, for anyone", async () => {
    const url = await gatewayWith({ JWT_PRIVATE_KEY_FILE: keyFile("k.pem").path });
    const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toContain("/.well-known/jwks.json");
  });

  it("reports a missing key file, both key settings at once and a key that is not Ed25519 in one start-up error", () => {
    const rsa = join(dir, "rsa.pem");
    writeFileSync(
      rsa,
      generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }),
    );
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadGatewayConfig({ ...baseEnv(), ...env });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };
    expect(problemsOf({ JWT_PRIVATE_KEY_FILE: join(dir, "missing.pem"), JWT_PREVIOUS_PUBLIC_KEYS_FILE: rsa })).toEqual([
      `JWT_PRIVATE_KEY_FILE=${JSON.stringify(join(dir, "missing.pem"))} cannot be read (ENOENT)`,
      "JWT_PREVIOUS_PUBLIC_KEYS_FILE: key 1 is not an Ed25519 public key in SPKI PEM",
    ]);
    expect(problemsOf({ JWT_PRIVATE_KEY: "not a key", JWT_PRIVATE_KEY_FILE: rsa })).toEqual([
      "set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE, not both",
      "JWT_PRIVATE_KEY is not an Ed25519 private key in PKCS#8 PEM",
    ]);
  });
});
