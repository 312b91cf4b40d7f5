import { generateKeyPairSync } from "node:crypto";
import { decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { AuthConfig } from "../src/config.js";
import { type Caller, createAuthenticator } from "../src/tokens.js";
import { createVerifiedTokens } from "../src/verified-tokens.js";

const config = (ttlSeconds: number): AuthConfig => ({
  issuer: "ftgo-gateway",
  audience: "ftgo-api",
  ttlSeconds,
  privateKeyPem: "",
  previousPublicKeysPem: [],
  devSignIn: true,
});

describe("createVerifiedTokens", () => {
  it("answers a remembered token until its expiry, and not after", () => {
    let now = 1_000;
    const memo = createVerifiedTokens<Caller>(10, () => now);
    memo.remember("t-1", { role: "consumer", subject: "c-1" }, 2_000);
    expect(memo.get("t-1")).toEqual({ role: "consumer", subject: "c-1" });
    now = 2_000;
    expect(memo.get("t-1")).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it("keeps at most its bound, forgetting the oldest token first", () => {
    const memo = createVerifiedTokens<Caller>(2, () => 0);
    for (const token of ["t-1", "t-2", "t-3"]) memo.remember(token, { role: "admin", subject: "admin" }, 10);
    expect(memo.size).toBe(2);
    expect(memo.get("t-1")).toBeUndefined();
    expect(memo.get("t-3")).toEqual({ role: "admin", subject: "admin" });
  });
});

describe("the authenticator's memo of verified tokens", () => {
  it("refuses a token once it has expired, though it was accepted (and remembered) before", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const authenticator = await createAuthenticator(config(60), () => now);
    const token = await authenticator.issue({ role: "consumer", subject: "c-1001" });
    now += 59_000;
    expect(await authenticator.authenticate(`Bearer ${token}`)).toEqual({ role: "consumer", subject: "c-1001" });
    now += 1_000;
    await expect(authenticator.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
      status: 401,
      message: "the token has expired",
    });
  });

  it("refuses a token another key signed, after accepting that token with its own key", async () => {
    const [own, other] = await Promise.all([createAuthenticator(config(60)), createAuthenticator(config(60))]);
    const token = await other.issue({ role: "admin", subject: "admin" });
    expect(await other.authenticate(`Bearer ${token}`)).toEqual({ role: "admin", subject: "admin" });
    await expect(own.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ status: 401 });
  });
});

describe("key rotation by kid", () => {
  const keyPair = () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    return {
      privateKey,
      privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
  };
  const ttl = 600;
  const signedBy = (key: ReturnType<typeof keyPair>, previous: ReturnType<typeof keyPair>[] = []): AuthConfig => ({
    ...config(ttl),
    privateKeyPem: key.privatePem,
    previousPublicKeysPem: previous.map(({ publicPem }) => publicPem),
  });

  it("verifies a token of the previous key after the rotation while it lives, and refuses it after its expiry", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const [oldKey, newKey] = [keyPair(), keyPair()];
    const before = await createAuthenticator(signedBy(oldKey), () => now);
    const token = await before.issue({ role: "consumer", subject: "c-1001" });

    now += 60_000; // the rotation: a gateway with the new key, still trusting the old one
    const after = await createAuthenticator(signedBy(newKey, [oldKey]), () => now);
    expect(after.keyId).not.toBe(before.keyId);
    expect(decodeProtectedHeader(await after.issue({ role: "admin", subject: "admin" })).kid).toBe(after.keyId);
    expect(await after.authenticate(`Bearer ${token}`)).toEqual({ role: "consumer", subject: "c-1001" });

    now += (ttl - 60) * 1000; // the old token's expiry
    await expect(after.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
      status: 401,
      message: "the token has expired",
    });
  });

  it("refuses a token of the old key once the old key is no longer listed as previous", async () => {
    const [oldKey, newKey] = [keyPair(), keyPair()];
    const token = await (await createAuthenticator(signedBy(oldKey))).issue({ role: "admin", subject: "admin" });
    const after = await createAuthenticator(signedBy(newKey));
    await expect(after.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
      status: 401,
      message: "the token was not signed by this gateway",
    });
  });

  it("refuses a token whose kid names no key it knows, or that has no kid, even if the signature would verify", async () => {
    const key = keyPair();
    const authenticator = await createAuthenticator(signedBy(key));
    const now = Math.floor(Date.now() / 1000);
    const forge = (header: { kid?: string }) =>
      new SignJWT({ role: "consumer" })
        .setProtectedHeader({ alg: "EdDSA", ...header })
        .setSubject("c-1001")
        .setIssuer("ftgo-gateway")
        .setAudience("ftgo-api")
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(key.privateKey);
    expect(await authenticator.authenticate(`Bearer ${await forge({ kid: authenticator.keyId })}`)).toEqual({
      role: "consumer",
      subject: "c-1001",
    });
    for (const header of [{ kid: "no-such-key" }, {}]) {
      await expect(authenticator.authenticate(`Bearer ${await forge(header)}`)).rejects.toMatchObject({
        status: 401,
        message: "the token was not signed by this gateway",
      });
    }
  });

  it("publishes both keys during the overlap, the current one first, as EdDSA signing keys with their kids", async () => {
    const [oldKey, newKey] = [keyPair(), keyPair()];
    const before = await createAuthenticator(signedBy(oldKey));
    const after = await createAuthenticator(signedBy(newKey, [oldKey]));
    expect(after.jwks.keys).toEqual([
      { kty: "OKP", crv: "Ed25519", x: expect.any(String), kid: after.keyId, alg: "EdDSA", use: "sig" },
      { ...before.jwks.keys[0], kid: before.keyId },
    ]);
    expect(JSON.stringify(after.jwks)).not.toMatch(/"d"/); // no private part
  });
});
