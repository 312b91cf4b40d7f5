// The promises of the reliability report (`npm run reliability`, docs/reliability.md), each with the tests
// that prove it. One table, as data: the script runs exactly these tests and counts them per row, and
// test/reliability.test.ts checks that every named file exists and every title still matches one. A promise
// no test proves yet has no proofs and says so; it is never counted as kept.

/** Tests that prove a row: the tests of `file` whose title contains `title` (and, for a parametrised one, `only`). */
export interface ReliabilityProof {
  readonly file: string;
  /** A piece of the `it(…)`/`describe(…)` title as written in the source, so it can be checked without running. */
  readonly title: string;
  /** A piece of the title as run, in place of `title`, picking cases of an `it.each` (`"'order': all"`). */
  readonly only?: string;
}

export interface ReliabilityRow {
  readonly promise: string;
  readonly load: string;
  readonly faults: string;
  readonly badInputs: string;
  /** Empty: not covered yet. */
  readonly proofs: readonly ReliabilityProof[];
}

const SAGA = "test/saga.test.ts";
const CRASH = "test/chaos/participant-crash.test.ts";
const RELAY_CRASH = "test/chaos/relay-crash.test.ts";
const NONE = "none";

function participantKilled(victim: string): ReliabilityRow {
  return {
    promise: `${victim[0]?.toUpperCase()}${victim.slice(1)} killed mid-saga: every order settles, none charged twice`,
    load: "100 orders per saga mode",
    faults: `SIGKILL of ${victim}, then restart`,
    badInputs: NONE,
    proofs: [{ file: CRASH, title: "all $orders orders settle", only: `'${victim}': all` }],
  };
}

export const RELIABILITY_ROWS: readonly ReliabilityRow[] = [
  {
    promise: "Happy path: an order of an active consumer whose card pays is approved",
    load: "one order per saga mode and discovery",
    faults: NONE,
    badInputs: NONE,
    proofs: [{ file: SAGA, title: "approves the order of an active consumer whose card pays" }],
  },
  {
    promise: "Compensations: a failed step undoes the earlier ones; a cancel reverses charge and ticket",
    load: "one order per case",
    faults: "declined card, suspended or unknown consumer, closed restaurant",
    badInputs: NONE,
    proofs: [
      { file: SAGA, title: "compensating the earlier steps" },
      { file: SAGA, title: "cancels an approved order" },
    ],
  },
  participantKilled("order"),
  participantKilled("consumer"),
  participantKilled("kitchen"),
  participantKilled("accounting"),
  {
    promise: "Duplicate storm: every message delivered many times is applied once",
    load: "a batch of orders per saga mode",
    faults: "every message redelivered",
    badInputs: "duplicates",
    proofs: [
      { file: "test/chaos/duplicate-storm.test.ts", title: "ends every saga exactly as single delivery does" },
      { file: "test/chaos/loyalty-storm.test.ts", title: "credits each approved order once" },
    ],
  },
  {
    promise: "Same-id republish: JetStream keeps one copy, the consumer applies it once",
    load: "single messages",
    faults: "crash between publish and mark; redelivery",
    badInputs: "the same message id again",
    proofs: [
      {
        file: "packages/platform/test/messaging-relay.test.ts",
        title: "publishes again after a crash between publish",
      },
      {
        file: "packages/platform/test/messaging-consumer.test.ts",
        title: "acknowledges a message delivered three times",
      },
    ],
  },
  {
    promise: "Relay crash: an event committed before Order dies is published by the restarted Order, once",
    load: "orders before and after the crash",
    faults: "Order SIGKILL between commit and publish, broker down",
    badInputs: NONE,
    proofs: [
      { file: RELAY_CRASH, title: "the restarted Order publishes it", only: "down (SIGKILL)" },
      {
        file: "packages/platform/test/messaging-relay.test.ts",
        title: "publishes, once, a row committed before a crash",
      },
    ],
  },
  {
    promise: "Broker SIGKILL: orders placed while nats-server is down settle, none lost",
    load: "60 orders per saga mode, 15 while the broker is down",
    faults: "nats-server SIGKILL mid-run, restart on the same store",
    badInputs: NONE,
    proofs: [{ file: "test/chaos/broker-restart.test.ts", title: "and loses none" }],
  },
  {
    promise: "Broker paused: with nats-server frozen as Order dies, the event is stored and applied once",
    load: "orders before and after the pause",
    faults: "nats-server SIGSTOP/SIGCONT, Order SIGKILL",
    badInputs: NONE,
    proofs: [{ file: RELAY_CRASH, title: "the restarted Order publishes it", only: "frozen (SIGSTOP)" }],
  },
  {
    promise: "Slow or failing downstream: the breaker opens, fails fast, and closes once healthy",
    load: "calls to two instances",
    faults: "failing and hung instances",
    badInputs: NONE,
    proofs: [
      { file: "packages/platform/test/resilience-breaker.test.ts", title: "" },
      { file: "packages/platform/test/resilience-retry.test.ts", title: "so a hung instance costs one attempt" },
    ],
  },
  {
    promise: "Bulkhead excess: calls past the limit and queue fail at once with RESOURCE_EXHAUSTED",
    load: "calls past limit + queue",
    faults: "a slow downstream",
    badInputs: NONE,
    proofs: [{ file: "packages/platform/test/resilience-bulkhead.test.ts", title: "" }],
  },
  {
    promise: "Malformed frames: bytes that do not decode are refused or dead-lettered, and the next order completes",
    load: "orders after the poison",
    faults: NONE,
    badInputs: "undecodable gRPC bodies, poison messages on the bus",
    proofs: [
      { file: "packages/platform/test/grpc-server.test.ts", title: "a request that does not decode" },
      { file: "test/chaos/poison-message.test.ts", title: "goes to the dead letters of every receiver" },
    ],
  },
  {
    promise: "Malformed JSON: the gateway answers bad input with a JSON error, never a 500",
    load: "every operation of /openapi.json",
    faults: NONE,
    badInputs: "malformed JSON, wrong types, unknown fields; requests generated from /openapi.json",
    proofs: [
      { file: "test/gateway-edge.test.ts", title: "answers bad input with a JSON error" },
      { file: "test/fuzz-http.test.ts", title: "" },
    ],
  },
  {
    promise: "Oversized messages are refused or dead-lettered, cut to fit, and the next orders settle",
    load: "orders after the oversized one",
    faults: "a restart after the poison",
    badInputs: "1.1 MB ids, oversized bus messages, 10 KB paths, requests over the receive limit",
    proofs: [
      { file: "test/chaos/oversized-poison.test.ts", title: "cut to fit" },
      { file: "test/oversized-id.test.ts", title: "is refused with INVALID_ARGUMENT" },
      { file: "test/gateway-hardening.test.ts", title: "answers a 10 KB path with 414" },
      { file: "packages/platform/test/grpc-server.test.ts", title: "over maxReceiveMessageBytes" },
    ],
  },
  {
    promise: "Token bypass: every way around a token gets 401 with a Bearer challenge",
    load: "one request per variant",
    faults: NONE,
    badInputs:
      "none, garbage, alg none, wrong key, HS256 key confusion, wrong issuer or audience, expired, not yet valid, tampered",
    proofs: [{ file: "test/gateway-auth.test.ts", title: "refuses every way around a token" }],
  },
  {
    promise: "Cross-consumer access: a consumer cannot read or cancel another consumer's order",
    load: "one order",
    faults: NONE,
    badInputs: "another consumer's order id",
    proofs: [
      { file: "test/gateway-auth.test.ts", title: "another consumer's order" },
      { file: "test/gateway-versions.test.ts", title: "another consumer's v2 order" },
    ],
  },
  {
    promise: "Cross-service access (SECURE=1): a service cannot use another service's methods, subjects or data",
    load: "the Create and Cancel Order sagas and a delivery on a secure mesh",
    faults: NONE,
    badInputs:
      "no or another CA's certificate, a method the access table denies, forged or expired end-user claims, another identity's events, registry keys and courier quotes",
    proofs: [
      { file: "packages/platform/test/grpc-mtls.test.ts", title: "serveGrpc in the secure mode" },
      { file: "test/secure-order.test.ts", title: "Order called directly with a service's certificate" },
      { file: "test/secure-order.test.ts", title: "Order called directly with a learner's certificate" },
      { file: "test/secure-broker.test.ts", title: "a forged CreditCardAuthorized" },
      { file: "test/secure-broker.test.ts", title: "a fake Kitchen in the registry" },
      { file: "test/secure-broker.test.ts", title: "a rogue courier" },
      { file: "test/secure-broker.test.ts", title: "a secure mesh" },
      { file: "test/make-up-secure.test.ts", title: "SECURE=1 make up" },
    ],
  },
  {
    promise: "Floods: a flooding client is limited, others are not, and the flood leaves no wrong state",
    load: "bursts past the rate limit; a rogue courier's quotes",
    faults: NONE,
    badInputs: "invalid tokens, invalid quotes",
    proofs: [
      { file: "test/gateway-edge.test.ts", title: "limits a flooding client" },
      { file: "test/gateway-hardening.test.ts", title: "answers a flood of invalid tokens with 429" },
      { file: "test/courier-flood.test.ts", title: "gets at most 16 quotes recorded" },
    ],
  },
  {
    promise: "Deadline propagation: a nested call gets no more than the caller's remaining budget",
    load: "nested calls",
    faults: "a hung downstream",
    badInputs: NONE,
    proofs: [
      { file: "packages/platform/test/resilience-deadline.test.ts", title: "" },
      { file: "packages/platform/test/grpc-client.test.ts", title: "no more than the remaining budget" },
    ],
  },
  {
    promise: "Graceful shutdown under load: SIGTERM to each service while orders flow loses nothing",
    load: "80 orders and ticket acceptances per service stopped",
    faults: "SIGTERM of order, consumer, kitchen, accounting and delivery in turn, then restart",
    badInputs: NONE,
    proofs: [{ file: "test/chaos/graceful-shutdown.test.ts", title: "exits by itself with code 0" }],
  },
  {
    promise: "Scale-out: with two instances of every service, one of each killed mid-run, the twins finish every saga",
    load: "60 orders per saga mode; watchers on one instance while the other changes the order or ticket",
    faults: "SIGKILL of the second instance of order, consumer, kitchen, accounting and delivery, not restarted",
    badInputs: NONE,
    proofs: [
      { file: "test/chaos/instance-kill.test.ts", title: "when one instance of each service is killed mid-run" },
      { file: "test/watch-across-instances.test.ts", title: "" },
    ],
  },
  {
    promise: "A broker node lost: on three NATS nodes with three replicas per stream, every saga ends, none twice",
    load: "30 orders around a kill, 12 while a node is frozen",
    faults: "SIGKILL of the order events stream's leader node, then restart; SIGSTOP of one node",
    badInputs: NONE,
    proofs: [
      { file: "test/chaos/nats-cluster.test.ts", title: "" },
      { file: "packages/platform/test/nats-cluster.test.ts", title: "drops a frozen node's routes" },
    ],
  },
  {
    promise: "Soak: every order right through 2 minutes of kills, broker restarts, faults and a flood",
    load: "half the measured capacity for 2 minutes",
    faults: "participant kills, broker restarts, latency and errors, a flood",
    badInputs: NONE,
    proofs: [{ file: "test/soak.test.ts", title: "keeps every order right" }],
  },
];

/** The files the report runs: those of every row, each once, in table order. */
export function reliabilityFiles(rows: readonly ReliabilityRow[] = RELIABILITY_ROWS): string[] {
  return [...new Set(rows.flatMap((row) => row.proofs.map((proof) => proof.file)))];
}
