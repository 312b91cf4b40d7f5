import { describe, expect, it } from "vitest";
import type { AuthConfig } from "../src/config.js";
import { type Caller, createAuthenticator } from "../src/tokens.js";
import { createVerifiedTokens } from "../src/verified-tokens.js";

const config = (ttlSeconds: number): AuthConfig => ({
  issuer: "ftgo-gateway",
  audience: "ftgo-api",
  ttlSeconds,
  privateKeyPem: "",
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
