import { waitFor } from "@ftgo/platform/testing";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createResponseCache, sendCached } from "../src/cache.js";

/** A fastify app with one route answering through sendCached with `ttlMs`, counting the loads behind it. */
function appCaching(ttlMs: number): { app: FastifyInstance; loads: () => number } {
  const app = Fastify();
  const deps = { cache: createResponseCache({ maxEntries: 100 }) };
  let loads = 0;
  app.get("/menu", (request, reply) =>
    sendCached({ deps, request, reply }, "menu:r-1", ttlMs, "public, max-age=60", async () => {
      loads++;
      return { value: { menuItems: ["Pho bo"] }, cacheable: true };
    }),
  );
  return { app, loads: () => loads };
}

describe("sendCached", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it("with a TTL, sends an ETag and answers a matching If-None-Match with 304 from the cache", async () => {
    const caching = appCaching(60_000);
    app = caching.app;
    const first = await app.inject({ method: "GET", url: "/menu" });
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const revalidated = await app.inject({ method: "GET", url: "/menu", headers: { "if-none-match": etag } });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.headers["x-cache"]).toBe("hit");
    expect(caching.loads()).toBe(1);
  });

  it("with the TTL 0, hashes nothing: no ETag, and If-None-Match gets the body from a fresh load", async () => {
    const caching = appCaching(0);
    app = caching.app;
    const first = await app.inject({ method: "GET", url: "/menu" });
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).toBeUndefined();
    expect(first.headers["cache-control"]).toBe("no-store");
    const again = await app.inject({ method: "GET", url: "/menu", headers: { "if-none-match": "*" } });
    expect(again.statusCode).toBe(200);
    expect(again.headers["x-cache"]).toBe("miss");
    expect(again.json()).toEqual({ menuItems: ["Pho bo"] });
    expect(caching.loads()).toBe(2);
  });
});

describe("createResponseCache", () => {
  const load = (value: string) => async () => ({ value, cacheable: true });

  it("keeps no more entries than its bound, however many distinct keys are asked for", async () => {
    const cache = createResponseCache({ maxEntries: 50 });
    for (let i = 0; i < 500; i++) await cache.get(`menu:r-${i}`, 60_000, load(`menu ${i}`));
    expect(cache.size).toBe(50);
    // The least recently used went first: the last keys are still there, the first are not.
    expect(await cache.get("menu:r-499", 60_000, load("again"))).toEqual({ value: "menu 499", hit: true });
    expect(await cache.get("menu:r-0", 60_000, load("again"))).toEqual({ value: "again", hit: false });
  });

  it("does not answer an entry past its TTL", async () => {
    let now = 1_000_000;
    const cache = createResponseCache({ maxEntries: 10, now: () => now });
    await cache.get("menu:r-1", 1_000, load("old"));
    now += 999;
    expect(await cache.get("menu:r-1", 1_000, load("new"))).toEqual({ value: "old", hit: true });
    now += 2;
    expect(await cache.get("menu:r-1", 1_000, load("new"))).toEqual({ value: "new", hit: false });
  });

  it("drops an expired entry at its expiry, though nobody reads it again", async () => {
    const cache = createResponseCache({ maxEntries: 10 });
    await cache.get("menu:r-1", 20, load("menu"));
    await cache.get("menu:r-2", 60_000, load("menu"));
    expect(cache.size).toBe(2);
    await waitFor(() => cache.size === 1, { timeoutMs: 2_000, intervalMs: 5, message: "the expired entry dropped" });
  });
});
