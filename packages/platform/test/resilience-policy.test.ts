import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { BrokenCircuitError } from "cockatiel";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import type { Env } from "../src/env.js";
import {
  DEFAULT_CALL_POLICY,
  describePolicies,
  isInstanceFailure,
  isOutage,
  isRetryable,
  isSafeToRetry,
  loadPolicyConfig,
  withFallback,
} from "../src/resilience/index.js";

function policiesFrom(env: Env) {
  return loadConfig(env, { service: "order", port: 0 }, (read) => ({
    policies: loadPolicyConfig(read, ["kitchen", "order-history"]),
  })).policies;
}

describe("loadPolicyConfig", () => {
  it("gives every target the defaults when the environment says nothing", () => {
    const policies = policiesFrom({});

    expect(policies.kitchen).toEqual(DEFAULT_CALL_POLICY);
    expect(policies["order-history"]).toEqual(DEFAULT_CALL_POLICY);
  });

  it("reads each target's own variables", () => {
    const policies = policiesFrom({
      KITCHEN_TIMEOUT_MS: "500",
      KITCHEN_BULKHEAD_LIMIT: "8",
      KITCHEN_BREAKER_FAILURES: "2",
      KITCHEN_RETRY_ATTEMPTS: "1",
      ORDER_HISTORY_BREAKER: "sampling",
      ORDER_HISTORY_BREAKER_FAILURE_PERCENT: "25",
    });

    expect(policies.kitchen).toMatchObject({
      timeoutMs: 500,
      bulkhead: { limit: 8, queue: 16 },
      breaker: { kind: "consecutive", failures: 2 },
      retry: { attempts: 1 },
    });
    expect(policies["order-history"].breaker).toEqual({
      kind: "sampling",
      failurePercent: 25,
      windowMs: 10_000,
      minimumRps: 5,
      halfOpenAfterMs: 5_000,
    });
  });

  it("reports every invalid variable at start-up", () => {
    let error: unknown;
    try {
      policiesFrom({
        KITCHEN_BULKHEAD_LIMIT: "0",
        KITCHEN_BREAKER: "sometimes",
        ORDER_HISTORY_BREAKER: "sampling",
        ORDER_HISTORY_BREAKER_FAILURE_PERCENT: "150",
      });
    } catch (thrown) {
      error = thrown;
    }

    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((problem) => problem.split("=")[0])).toEqual([
      "KITCHEN_BULKHEAD_LIMIT",
      "KITCHEN_BREAKER",
      "ORDER_HISTORY_BREAKER_FAILURE_PERCENT",
    ]);
  });
});

describe("describePolicies", () => {
  it("says each target's effective policy in words", () => {
    expect(describePolicies(policiesFrom({ KITCHEN_RETRY_ATTEMPTS: "1" }))).toEqual([
      {
        target: "kitchen",
        deadline: "2000 ms",
        bulkhead: "32 in flight + 16 queued",
        breaker: "opens after 5 failures in a row; half-open after 5000 ms",
        retry: "off",
      },
      {
        target: "order-history",
        deadline: "2000 ms",
        bulkhead: "32 in flight + 16 queued",
        breaker: "opens after 5 failures in a row; half-open after 5000 ms",
        retry: "3 attempts, backoff 50–1000 ms with jitter; idempotent methods only",
      },
    ]);
  });
});

describe("which failures count", () => {
  const failure = (code: Code) => new ConnectError("failed", code);

  it("counts against an instance only what says the instance is unwell", () => {
    const counted = [Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.Unknown];
    const answers = [
      Code.NotFound,
      Code.InvalidArgument,
      Code.FailedPrecondition,
      Code.ResourceExhausted,
      Code.Canceled,
    ];

    expect(counted.map((code) => isInstanceFailure(failure(code)))).toEqual(counted.map(() => true));
    expect(answers.map((code) => isInstanceFailure(failure(code)))).toEqual(answers.map(() => false));
  });

  it("retries DEADLINE_EXCEEDED only while the call's own deadline has not passed", () => {
    expect(isRetryable(failure(Code.DeadlineExceeded), Date.now() + 1_000)).toBe(true);
    expect(isRetryable(failure(Code.DeadlineExceeded), Date.now() - 1)).toBe(false);
    expect(isRetryable(failure(Code.Unavailable), Date.now() - 1)).toBe(true);
    expect(isRetryable(failure(Code.Internal), Date.now() + 1_000)).toBe(false);
  });

  it("does not retry an open circuit: every instance the balancer could pick is failing", () => {
    const open = new ConnectError(
      "circuit open for kitchen@127.0.0.1:1",
      Code.Unavailable,
      undefined,
      undefined,
      new BrokenCircuitError(),
    );

    expect(isRetryable(open, Date.now() + 1_000)).toBe(false);
  });

  it("takes what is safe to repeat from the .proto's idempotency_level", () => {
    expect(isSafeToRetry(KitchenService.method.getMenu)).toBe(true); // NO_SIDE_EFFECTS
    expect(isSafeToRetry(KitchenService.method.acceptTicket)).toBe(true); // IDEMPOTENT
    expect(isSafeToRetry(OrderService.method.createOrder)).toBe(false); // not declared
  });
});

describe("withFallback", () => {
  it("returns the fallback when the dependency gives no answer", async () => {
    const menu = await withFallback(
      () => Promise.reject(new ConnectError("circuit open for kitchen@127.0.0.1:1", Code.Unavailable)),
      (error) => ({ source: "last known", because: error.code }),
    );

    expect(menu).toEqual({ source: "last known", because: Code.Unavailable });
  });

  it("passes an answer through, even a failing one", async () => {
    const notFound = new ConnectError("restaurant r-9 does not exist", Code.NotFound);

    await expect(
      withFallback(
        () => Promise.resolve("fresh"),
        () => "stale",
      ),
    ).resolves.toBe("fresh");
    await expect(
      withFallback(
        () => Promise.reject(notFound),
        () => "stale",
      ),
    ).rejects.toBe(notFound);
  });

  it("lets the caller say which failures it can stand in for", async () => {
    const busy = () => Promise.reject(new ConnectError("too many calls", Code.ResourceExhausted));
    const onlyWhenDown = (error: ConnectError) => error.code === Code.Unavailable;

    expect(isOutage(new ConnectError("busy", Code.ResourceExhausted))).toBe(true);
    await expect(withFallback(busy, () => "stale", onlyWhenDown)).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
  });
});
