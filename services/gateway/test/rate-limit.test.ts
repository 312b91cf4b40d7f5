// The gateway's token bucket, driven by its injected clock: no sleeps, no server. Each caller's bucket holds
// at most `burst` tokens and refills at `ratePerSecond`; a request takes one or is refused with the time
// until one is back.
import { describe, expect, it } from "vitest";
import { createRateLimiter, rateLimited, rateLimitHeaders } from "../src/rate-limit.js";

/** A limiter on a clock the test moves by hand (milliseconds, as performance.now()). */
function limiterAt(ratePerSecond: number, burst: number) {
  let ms = 1_000;
  const limiter = createRateLimiter({ ratePerSecond, burst }, () => ms);
  return {
    limiter,
    take: (key = "caller") => limiter.take(key),
    advance(seconds: number) {
      ms += seconds * 1000;
    },
  };
}

describe("createRateLimiter", () => {
  it("lets a new caller send a burst at once, counting down what is left, then refuses", () => {
    const { take } = limiterAt(2, 5);
    const burst = Array.from({ length: 5 }, () => take());
    expect(burst.map((decision) => [decision.allowed, decision.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    const refused = take();
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
  });

  it("refills at the rate per second, and no further than the burst", () => {
    const { take, advance } = limiterAt(2, 5);
    for (let i = 0; i < 5; i++) take();
    advance(1); // two tokens back
    expect([take().allowed, take().allowed, take().allowed]).toEqual([true, true, false]);
    advance(0.5); // one more
    expect([take().allowed, take().allowed]).toEqual([true, false]);
    advance(3600); // an hour idle still fills only the bucket
    const afterIdle = Array.from({ length: 6 }, () => take().allowed);
    expect(afterIdle).toEqual([true, true, true, true, true, false]);
  });

  it("says when to retry: the seconds until one token is back, rounded up", () => {
    const { take, advance } = limiterAt(0.5, 1); // one token every two seconds
    expect(take()).toMatchObject({ allowed: true, retryAfterSeconds: 0 });
    expect(take()).toMatchObject({ allowed: false, retryAfterSeconds: 2 });
    advance(1.2); // 0.6 of a token back: 0.8 s to go
    expect(take()).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    advance(0.8);
    expect(take()).toMatchObject({ allowed: true, retryAfterSeconds: 0 });
  });

  it("says when the bucket is full again", () => {
    const { take, advance } = limiterAt(2, 10);
    expect(take().resetSeconds).toBe(1); // one token short: half a second, rounded up
    for (let i = 0; i < 9; i++) take();
    expect(take().resetSeconds).toBe(5); // empty: ten tokens at two a second
    advance(2);
    expect(take().resetSeconds).toBe(4); // four back, one taken: seven short
  });

  it("keeps one bucket per caller: one caller emptying its own leaves the others full", () => {
    const { take } = limiterAt(1, 3);
    for (let i = 0; i < 3; i++) take("alice");
    expect(take("alice").allowed).toBe(false);
    expect(take("bob")).toMatchObject({ allowed: true, remaining: 2 });
    expect(take("10.0.0.7")).toMatchObject({ allowed: true, remaining: 2 });
  });

  it("never lets a caller through more than burst + rate × t in t seconds", () => {
    const { take, advance } = limiterAt(4, 8);
    let allowed = 0;
    for (let tick = 0; tick < 1000; tick++) {
      if (take().allowed) allowed++;
      advance(0.01); // a request every 10 ms for 10 s: far more than the limit
    }
    // The requests span 9.99 s: at most 8 + 4 × 9.99 through, and the bucket's refill is not lost either.
    expect(allowed).toBeLessThanOrEqual(Math.floor(8 + 4 * 9.99));
    expect(allowed).toBeGreaterThanOrEqual(8 + 4 * 9);
  });

  it("forgets the full buckets of callers gone quiet once it holds many", () => {
    const { limiter, take, advance } = limiterAt(10, 2);
    for (let i = 0; i < 10_000; i++) take(`caller-${i}`);
    expect(limiter.size).toBe(10_000);
    advance(1); // every bucket full again
    take("newcomer");
    expect(limiter.size).toBe(1);
  });
});

describe("rateLimitHeaders", () => {
  it("sends the RateLimit headers always, and Retry-After only with a refusal", () => {
    const { take } = limiterAt(1, 2);
    expect(rateLimitHeaders(take(), 2)).toEqual({
      "ratelimit-limit": "2",
      "ratelimit-remaining": "1",
      "ratelimit-reset": "1",
    });
    take();
    const refused = take();
    expect(rateLimitHeaders(refused, 2)).toMatchObject({ "ratelimit-remaining": "0", "retry-after": "1" });
    expect(rateLimited(refused, 2)).toMatchObject({
      status: 429,
      code: "RATE_LIMITED",
      message: "too many requests: try again in 1 s",
      headers: expect.objectContaining({ "retry-after": "1" }),
    });
  });
});
