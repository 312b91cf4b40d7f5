// Metrics: what Prometheus scrapes from every process at /metrics (metrics-server.ts). One registry per
// process, defined here in one place so that the names, labels and buckets are seen together; the code that
// knows a fact records it (the gRPC adapters, the breakers, the relay, the consumers, Order, the gateway).
// Names follow Prometheus's conventions: a unit suffix (`_seconds`), `_total` on counters, and labels that
// stay few: a service, a method, a channel, a target instance, never an order id.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { channelName } from "./channel-name.js";

/** The process's registry: every metric below, and Node's own once the metrics server starts. */
export const metricsRegistry = new Registry();

/** Latency buckets, in seconds: from a local call (1 ms) to a deadline (10 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const registers = [metricsRegistry];

export const rpcServerDuration = new Histogram({
  name: "rpc_server_duration_seconds",
  help: "gRPC calls this process served: duration by service, method and status code",
  labelNames: ["service", "method", "code"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

export const rpcClientDuration = new Histogram({
  name: "rpc_client_duration_seconds",
  help: "gRPC calls this process made (each attempt): duration by service, method and status code",
  labelNames: ["service", "method", "code"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

export const breakerState = new Gauge({
  name: "ftgo_breaker_state",
  help: "Circuit breaker in front of one instance of a target service: 0 closed, 1 half-open, 2 open",
  // Not `instance`: Prometheus gives every scraped series that label, the address it scraped.
  labelNames: ["target", "target_instance"] as const,
  registers,
});

export const breakerTransitions = new Counter({
  name: "ftgo_breaker_transitions_total",
  help: "Circuit breaker state changes, by target, instance and the state it went to",
  labelNames: ["target", "target_instance", "to"] as const,
  registers,
});

export const clientRetries = new Counter({
  name: "ftgo_client_retries_total",
  help: "gRPC calls tried again on another instance after a retryable failure, by target and method",
  labelNames: ["target", "method"] as const,
  registers,
});

export const outboxPublishLag = new Histogram({
  name: "ftgo_outbox_publish_lag_seconds",
  help: "From an outbox row's commit to JetStream's acknowledgement of its publish",
  buckets: LATENCY_BUCKETS,
  registers,
});

export const messagesConsumed = new Counter({
  name: "ftgo_messages_consumed_total",
  help: "Messages handled (committed and acknowledged) by this process's consumers, by channel",
  labelNames: ["channel"] as const,
  registers,
});

export const messagesRedelivered = new Counter({
  name: "ftgo_messages_redelivered_total",
  help: "Deliveries of a message that had been delivered before (a failed attempt, a lost ack), by channel",
  labelNames: ["channel"] as const,
  registers,
});

export const messagesDeadLettered = new Counter({
  name: "ftgo_messages_dead_lettered_total",
  help: "Messages moved to the dead letters, by channel",
  labelNames: ["channel"] as const,
  registers,
});

export const sagaOutcomes = new Counter({
  name: "ftgo_saga_outcomes_total",
  help: "Sagas that ended, by saga, mode (choreography, orchestration), outcome and reason",
  labelNames: ["saga", "mode", "outcome", "reason"] as const,
  registers,
});

export const httpServerDuration = new Histogram({
  name: "http_server_duration_seconds",
  help: "HTTP requests the gateway answered: duration by method, route and status",
  labelNames: ["method", "route", "status"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

export const rateLimitedRequests = new Counter({
  name: "ftgo_gateway_rate_limited_total",
  help: "Requests the gateway refused with 429 because their caller's bucket was empty",
  registers,
});

export const cacheLookups = new Counter({
  name: "ftgo_gateway_cache_lookups_total",
  help: "The gateway's response cache: lookups by result (hit, miss)",
  labelNames: ["result"] as const,
  registers,
});

/**
 * A gauge whose value is read when Prometheus scrapes, from every source that registered (the relays of the
 * services in this process, the bulkheads of its clients), summed per label set. It is registered with the
 * first source: a process with no outbox shows no outbox gauges, rather than a 0 that would mean "up to date".
 */
function sampledGauge<L extends string>(name: string, help: string, labelNames: readonly L[]) {
  const sources = new Set<() => readonly { labels: Record<L, string>; value: number }[]>();
  let registered = false;
  return {
    /** Adds a source until the function returned is called. */
    sample(source: () => readonly { labels: Record<L, string>; value: number }[]): () => void {
      sources.add(source);
      if (!registered) {
        registered = true;
        new Gauge({
          name,
          help,
          labelNames,
          registers,
          collect() {
            this.reset();
            for (const each of sources) for (const { labels, value } of each()) this.inc(labels, value);
          },
        });
      }
      return () => sources.delete(source);
    },
  };
}

export const outboxPending = sampledGauge("ftgo_outbox_pending_rows", "Outbox rows not yet published", []);
export const outboxOldestPending = sampledGauge(
  "ftgo_outbox_oldest_pending_age_seconds",
  "Age of the oldest outbox row not yet published: how far behind the broker the outbox is",
  [],
);
export const bulkheadInFlight = sampledGauge("ftgo_bulkhead_in_flight", "Calls to a target in flight", ["target"]);
export const bulkheadQueued = sampledGauge("ftgo_bulkhead_queued", "Calls to a target waiting for a slot", ["target"]);

/** The value of `ftgo_breaker_state` for a breaker state. */
export const BREAKER_STATE_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

/** The counters of one channel's messages, by subject (partition included), each worked out once. */
const channelCounters = new Map<
  string,
  { consumed: { inc(): void }; redelivered: { inc(): void }; deadLettered: { inc(): void } }
>();

/** `subject`'s channel's consumed, redelivered and dead-lettered counters (prom-client's children: no label hashing). */
export function countersOfChannel(subject: string) {
  let counters = channelCounters.get(subject);
  if (!counters) {
    const channel = channelName(subject);
    counters = {
      consumed: messagesConsumed.labels(channel),
      redelivered: messagesRedelivered.labels(channel),
      deadLettered: messagesDeadLettered.labels(channel),
    };
    channelCounters.set(subject, counters);
  }
  return counters;
}
