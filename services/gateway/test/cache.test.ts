import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createResponseCache, sendCached } from "../src/cache.js";

/** A fastify app with one route answering through sendCached with `ttlMs`, counting the loads behind it. */
function appCaching(ttlMs: number): { app: FastifyInstance; loads: () => number } {
  const app = Fastify();
  const deps = { cache: createResponseCache() };
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
