// The first edge function, before authentication: a token bucket per client address, for every request the
// gateway reads (the routing map's routes, /rpc, the dashboard, /docs, and unknown routes alike). The
// per-caller limit (router.ts) comes after the token is verified, so without this one a flood of invalid
// tokens would cost an Ed25519 verification each, and one of unknown paths nothing at all to send.
import { rateLimitedRequests } from "@ftgo/platform";
import type { FastifyInstance } from "fastify";
import type { RateLimitConfig } from "./config.js";
import { createRateLimiter, type RateLimiter, rateLimited } from "./rate-limit.js";

/**
 * Refuses a request with 429 (`RATE_LIMITED`, Retry-After, RateLimit-*) when its address's bucket is empty. An
 * allowed request carries no headers of this bucket: the RateLimit-* a client sees are its own caller's.
 * A root hook, so that it runs for every route registered after it and for the not-found handler.
 */
export function installEdgeRateLimit(app: FastifyInstance, config: RateLimitConfig): RateLimiter {
  const limiter = createRateLimiter(config);
  app.addHook("onRequest", async (request) => {
    const decision = limiter.take(`ip:${request.ip}`);
    if (decision.allowed) return;
    rateLimitedRequests.inc();
    throw rateLimited(decision, config.burst);
  });
  return limiter;
}
