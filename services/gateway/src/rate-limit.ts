// Rate limiting at the edge, one token bucket per caller: a signed-in caller by its subject, an anonymous
// one by its address. A bucket holds at most `burst` tokens and refills at `ratePerSecond`; each request
// takes one or is refused with 429. So over any span of t seconds a caller gets at most burst + rate × t
// requests through, and one caller emptying its bucket leaves every other bucket as it was.
import type { RateLimitConfig } from "./config.js";
import { GatewayError } from "./errors.js";
import type { Caller } from "./tokens.js";

/**
 * Whose bucket a request takes from: a signed-in caller's, else its address's (the /rpc routes share it). The
 * role is part of the key: a consumer whose id is `admin` has a bucket of its own, not the administrator's.
 * Also whose event-stream slots a stream takes (stream-slots.ts).
 */
export function rateLimitKey(caller: Caller, ip: string): string {
  return caller.role === "anonymous" ? `ip:${ip}` : `${caller.role}:${caller.subject}`;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole tokens left after this request. */
  readonly remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  readonly resetSeconds: number;
  /** Seconds until one token is back (Retry-After), when refused. */
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  take(key: string): RateDecision;
  /** Buckets held in memory: full ones are forgotten, as a new caller starts with a full bucket anyway. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Past this many buckets, the full ones are swept out before a new one is made. */
const SWEEP_ABOVE = 10_000;

export function createRateLimiter(
  { ratePerSecond, burst }: RateLimitConfig,
  now = () => performance.now(),
): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const perMs = ratePerSecond / 1000;

  /** Adds the tokens earned since the bucket was last touched, up to `burst`. */
  const refill = (bucket: Bucket, at: number) => {
    bucket.tokens = Math.min(burst, bucket.tokens + (at - bucket.updatedAt) * perMs);
    bucket.updatedAt = at;
  };

  const sweep = (at: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
  };

  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= SWEEP_ABOVE) sweep(at);
        bucket = { tokens: burst, updatedAt: at };
        buckets.set(key, bucket);
      }
      refill(bucket, at);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      return {
        allowed,
        remaining: Math.floor(bucket.tokens),
        resetSeconds: Math.ceil((burst - bucket.tokens) / ratePerSecond),
        retryAfterSeconds: allowed ? 0 : Math.ceil((1 - bucket.tokens) / ratePerSecond),
      };
    },
  };
}

/** The RateLimit-* headers (IETF draft) every limited answer carries, and Retry-After when refused. */
export function rateLimitHeaders(decision: RateDecision, burst: number): Record<string, string> {
  const headers: Record<string, string> = {
    "ratelimit-limit": String(burst),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
  if (!decision.allowed) headers["retry-after"] = String(decision.retryAfterSeconds);
  return headers;
}

export function rateLimited(decision: RateDecision, burst: number): GatewayError {
  return new GatewayError(
    429,
    "RATE_LIMITED",
    `too many requests: try again in ${decision.retryAfterSeconds} s`,
    rateLimitHeaders(decision, burst),
  );
}
