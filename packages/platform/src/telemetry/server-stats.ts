// One server's stats, typed: what AdminService's GetServerStats answers. The same facts as its /metrics
// (metrics.ts), but read from the live objects that record them (the mesh clients' pools, breakers and
// bulkheads, the outbox relay, the consumers), and only this server's: a Prometheus registry is
// process-wide, while a test or a demo may run several services in one process.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  BreakerState,
  type CallPolicySchema,
  type GetServerStatsResponseSchema,
  type TargetStatsSchema,
} from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import type { ChannelCounts } from "../messaging/consumer.js";
import type { OutboxStats } from "../messaging/relay.js";
import type { BreakerState as BreakerStateName } from "../resilience/breaker.js";
import type { MeshClientStats } from "../resilience/mesh-client.js";
import type { CallPolicy } from "../resilience/policy.js";

/** Where a server's stats come from; each is read at every call, so the answer is always current. */
export interface ServerStatsSources {
  /** The service the server is: "order". */
  readonly service: string;
  /** Its instance id in the registry; empty until it has registered. */
  readonly instanceId: () => string;
  /** The mesh clients it calls other services with (they may be made after the server starts). */
  readonly targets?: () => readonly { stats(): MeshClientStats }[];
  /** Its outbox relay; none on a server without an outbox. */
  readonly outbox?: { stats(): OutboxStats };
  /** Its consumers' counts, one per channel. */
  readonly consumers?: () => readonly ChannelCounts[];
}

/** The server's stats now, as GetServerStatsResponse. */
export function collectServerStats(sources: ServerStatsSources): MessageInitShape<typeof GetServerStatsResponseSchema> {
  const outbox = sources.outbox?.stats();
  return {
    service: sources.service,
    instanceId: sources.instanceId(),
    targets: (sources.targets?.() ?? []).map((client) => targetStats(client.stats())),
    outbox: outbox && {
      pendingRows: BigInt(outbox.pending),
      oldestPendingMs: BigInt(Math.round(outbox.oldestPendingAgeMs)),
      published: BigInt(outbox.published),
    },
    consumers: (sources.consumers?.() ?? []).map(({ channel, consumed, redelivered, deadLettered }) => ({
      channel,
      consumed: BigInt(consumed),
      redelivered: BigInt(redelivered),
      deadLettered: BigInt(deadLettered),
    })),
  };
}

function targetStats(stats: MeshClientStats): MessageInitShape<typeof TargetStatsSchema> {
  return {
    target: stats.target,
    breakers: stats.instances.map(({ id, breaker }) => ({ instanceId: id, state: BREAKER_STATES[breaker] })),
    bulkheadInFlight: stats.bulkhead.inFlight,
    bulkheadCapacity: stats.bulkhead.limit,
    bulkheadQueued: stats.bulkhead.queued,
    bulkheadQueueCapacity: stats.bulkhead.queue,
    retries: BigInt(stats.retries),
    policy: callPolicy(stats.policy, stats.fallbacks),
  };
}

const BREAKER_STATES: Record<BreakerStateName, BreakerState> = {
  closed: BreakerState.CLOSED,
  "half-open": BreakerState.HALF_OPEN,
  open: BreakerState.OPEN,
};

/**
 * The policy as the contract states it. An attempt's deadline is the attempt timeout when there is one,
 * else the call's (the first attempt gets all of it). A sampling breaker opens on a share of failures, not
 * on a count, so its threshold is 0: the contract's field counts consecutive failures only.
 */
function callPolicy(
  policy: CallPolicy,
  fallbacks: Readonly<Record<string, string>>,
): MessageInitShape<typeof CallPolicySchema> {
  return {
    deadlineMs: policy.attemptTimeoutMs > 0 ? policy.attemptTimeoutMs : Math.max(0, policy.timeoutMs),
    maxAttempts: policy.retry.attempts,
    breakerThreshold: policy.breaker.kind === "consecutive" ? policy.breaker.failures : 0,
    breakerHalfOpenAfterMs: policy.breaker.halfOpenAfterMs,
    fallbacks: { ...fallbacks },
  };
}
