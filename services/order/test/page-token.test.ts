import { randomBytes } from "node:crypto";
import { ConfigError } from "@ftgo/platform";
import { describe, expect, it } from "vitest";
import { loadOrderConfig } from "../src/app.js";
import { createPageTokens } from "../src/page-token.js";

describe("createPageTokens", () => {
  const tokens = createPageTokens();

  it("opens what it sealed, for the listing it sealed it for; no next page is the empty token", () => {
    expect(tokens.open(tokens.seal(4242, "c-1"), "c-1")).toBe(4242);
    expect(tokens.seal(undefined, "c-1")).toBe("");
    expect(tokens.open("", "c-1")).toBeUndefined();
  });

  it("shows nothing of the cursor: two tokens of one cursor differ, and neither holds its digits or bytes", () => {
    const [a, b] = [tokens.seal(4242, "c-1"), tokens.seal(4242, "c-1")];
    expect(a).not.toBe(b);
    for (const token of [a, b]) {
      const bytes = Buffer.from(token, "base64url");
      expect(bytes.toString("latin1")).not.toContain("4242");
      expect(bytes.includes(Buffer.from([0x10, 0x92]))).toBe(false); // 4242 big-endian
    }
  });

  it("refuses every altered byte, a truncated or padded token, garbage and the old readable form", () => {
    const token = tokens.seal(7, "c-1");
    const bytes = Buffer.from(token, "base64url");
    const altered = Array.from(bytes, (_, i) => {
      const copy = Buffer.from(bytes);
      copy[i] = (copy[i] ?? 0) ^ 0x01;
      return copy.toString("base64url");
    });
    const forged = [
      ...altered,
      token.slice(0, -2),
      `${token}AA`,
      "not a token!",
      Buffer.from("seq:1").toString("base64url"),
      randomBytes(bytes.length).toString("base64url"),
    ];
    for (const bad of forged) {
      expect(() => tokens.open(bad, "c-1"), bad).toThrow(/^page_token: not a token ListOrders issued/);
    }
  });

  it("refuses a token of another consumer's listing, and one sealed with another key", () => {
    expect(() => tokens.open(tokens.seal(7, "c-2"), "c-1")).toThrow(/page_token/);
    expect(() => tokens.open(tokens.seal(7, ""), "c-1")).toThrow(/page_token/);
    expect(() => createPageTokens().open(tokens.seal(7, "c-1"), "c-1")).toThrow(/page_token/);
  });

  it("reads another instance's tokens when both are given the same key", () => {
    const key = randomBytes(32);
    expect(createPageTokens(key).open(createPageTokens(key).seal(99, "c-1"), "c-1")).toBe(99);
  });
});

describe("ORDER_PAGE_TOKEN_KEY", () => {
  it("is 32 bytes in base64, or unset; anything else is a start-up error that does not quote it", () => {
    const key = randomBytes(32).toString("base64");
    expect(loadOrderConfig({ ORDER_PAGE_TOKEN_KEY: key }).pageTokenKey?.toString("base64")).toBe(key);
    expect(loadOrderConfig({}).pageTokenKey).toBeUndefined();
    const short = randomBytes(16).toString("base64");
    expect(() => loadOrderConfig({ ORDER_PAGE_TOKEN_KEY: short })).toThrow(ConfigError);
    expect(() => loadOrderConfig({ ORDER_PAGE_TOKEN_KEY: short })).not.toThrow(short);
  });
});
