import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError } from "@connectrpc/connect";
import { context as traceContext } from "@opentelemetry/api";
import {
  type BulkheadPolicy,
  bulkhead,
  ExponentialBackoff,
  handleWhen,
  isBulkheadRejectedError,
  retry,
} from "cockatiel";
import type { Registry } from "../discovery/index.js";
import { currentCall, runInCall } from "../grpc/call-context.js";
import type { Logger } from "../log.js";
import type { MeshTls } from "../mesh-tls.js";
import { bulkheadInFlight, bulkheadQueued, clientRetries } from "../telemetry/metrics.js";
import { deadlineOf, timeoutOfAttempt, withDeadline } from "./deadline.js";
import { createInstancePool, type Endpoint, type InstancePool, type InstanceState } from "./instance-pool.js";
import { type CallPolicy, isRetryable, isSafeToRetry } from "./policy.js";

/** A typed client of one target service, spread over its instances, with the target's policy on every call. */
export type MeshClient<S extends DescService> = Client<S> & {
  /** The target's instances as this client sees them now: address, breaker state, calls in flight. */
  instances(): InstanceState[];
  /** How the calls to the target are going now, and the policy guarding them: for AdminService's GetServerStats. */
  stats(): MeshClientStats;
  /** Stops watching the registry and closes every connection. */
  close(): void;
};

export interface MeshClientOptions {
  /** The target's service name in the registry: "kitchen". */
  readonly target: string;
  readonly registry: Registry;
  /** The target's policy, e.g. `config.policies.kitchen` from loadPolicyConfig. */
  readonly policy: CallPolicy;
  readonly log: Logger;
  /**
   * The methods whose caller falls back when the target cannot answer (see withFallback), by method name,
   * and what the fallback answers with: `{ GetMenu: "the last menu seen of the restaurant" }`. Said here so
   * that the stats can tell an operator; the fallback itself stays with the caller, who alone knows one.
   */
  readonly fallbacks?: Readonly<Record<string, string>>;
  /**
   * The secure mode (`config.tls`): calls go over mTLS, presenting this identity; the target's access table
   * decides what it may call. Undefined in the learner's mode: plaintext.
   */
  readonly tls?: MeshTls;
}

/** One mesh client's view of its target, read live: the same numbers as its metrics, in one piece. */
export interface MeshClientStats {
  readonly target: string;
  /** Each instance the client knows, with its breaker's state. */
  readonly instances: InstanceState[];
  readonly bulkhead: {
    /** Calls holding a slot now, and the slots there are. */
    readonly inFlight: number;
    readonly limit: number;
    /** Calls waiting for a slot now, and the room in that queue. */
    readonly queued: number;
    readonly queue: number;
  };
  /** Retries made since the client was created (ftgo_client_retries_total counts the same, process-wide). */
  readonly retries: number;
  readonly policy: CallPolicy;
  readonly fallbacks: Readonly<Record<string, string>>;
}

/** What every method of one mesh client shares. */
interface Mesh extends MeshClientOptions {
  readonly pool: InstancePool;
  /** One per target, over all its instances: it bounds the calls outstanding to the service. */
  readonly bulkhead: BulkheadPolicy;
  readonly backoff: ExponentialBackoff<unknown>;
  /** Retries of this client, for stats(); the counter behind /metrics is shared by every client of the process. */
  retries: number;
}

/**
 * A client for `service` that finds the instances of `target` through the registry and calls them
 * through the target's policy; it has the shape of Connect's `createClient`, so handlers use it like
 * any other client. A unary call passes these layers, outermost first:
 *
 *   deadline   `timeoutMs` or the policy's, never beyond the incoming call's; the caller hears
 *              DEADLINE_EXCEEDED on time, whichever layer it waits in
 *   bulkhead   at most `limit` calls to the target in flight and `queue` waiting; one more fails at once
 *              with RESOURCE_EXHAUSTED
 *   retry      only methods the .proto declares NO_SIDE_EFFECTS or IDEMPOTENT: after UNAVAILABLE,
 *              RESOURCE_EXHAUSTED or an attempt's own timeout, with exponential backoff and jitter, on
 *              another instance when there is one
 *   breaker    the chosen instance's circuit breaker: while open, UNAVAILABLE at once, nothing sent
 *   the call   on the instance's one shared connection, carrying the remaining deadline downstream
 *
 * Server-streaming methods go to one instance, round-robin, bounded by the caller's `timeoutMs` (else
 * the policy's) alone: a stream is no unit a bulkhead, breaker or retry can reason about.
 */
export function createMeshClient<S extends DescService>(service: S, options: MeshClientOptions): MeshClient<S> {
  const { policy } = options;
  const mesh: Mesh = {
    ...options,
    pool: createInstancePool(service, options),
    bulkhead: bulkhead(policy.bulkhead.limit, policy.bulkhead.queue),
    // cockatiel's default generator: exponential growth with decorrelated jitter, so that the clients
    // a failure hit at one moment do not all come back at the same moment.
    backoff: new ExponentialBackoff({ initialDelay: policy.retry.initialDelayMs, maxDelay: policy.retry.maxDelayMs }),
    retries: 0,
  };
  // The bulkhead's occupancy, read when Prometheus scrapes: cockatiel counts the free slots.
  const { limit, queue } = policy.bulkhead;
  const labels = { target: options.target };
  const unsample = [
    bulkheadInFlight.sample(() => [{ labels, value: limit - mesh.bulkhead.executionSlots }]),
    bulkheadQueued.sample(() => [{ labels, value: queue - mesh.bulkhead.queueSlots }]),
  ];
  const client: Record<string, unknown> = {
    instances: () => mesh.pool.states(),
    stats: (): MeshClientStats => ({
      target: options.target,
      instances: mesh.pool.states(),
      bulkhead: {
        inFlight: limit - mesh.bulkhead.executionSlots,
        limit,
        queued: queue - mesh.bulkhead.queueSlots,
        queue,
      },
      retries: mesh.retries,
      policy,
      fallbacks: options.fallbacks ?? {},
    }),
    close: () => {
      for (const stop of unsample) stop();
      mesh.pool.close();
    },
  };
  for (const method of service.methods) client[method.localName] = createMethodFn(method, mesh);
  // The loop gives every method of S its function; TypeScript cannot follow a loop to the mapped type.
  return client as MeshClient<S>;
}

function createMethodFn(method: DescMethod, mesh: Mesh) {
  switch (method.methodKind) {
    case "unary":
      return createUnaryFn(method, mesh);
    case "server_streaming":
      return createServerStreamingFn(method, mesh);
    default:
      return () => {
        throw new ConnectError(
          `${mesh.target} ${method.name} is ${method.methodKind}; not supported`,
          Code.Unimplemented,
        );
      };
  }
}

function createUnaryFn(method: DescMethod, mesh: Mesh) {
  const { target, policy, pool, log } = mesh;
  const what = `${target} ${method.name}`;
  const retries = isSafeToRetry(method) ? policy.retry.attempts - 1 : 0;

  return (request: unknown, options: CallOptions = {}) => {
    const parent = currentCall();
    const trace = traceContext.active();
    const deadline = deadlineOf(options.timeoutMs ?? policy.timeoutMs, parent);
    const cancelledBy = [options.signal, parent?.signal].filter((signal) => signal !== undefined);
    const tried = new Set<string>();

    /** One attempt: the instance the balancer picks, through its breaker, with what remains of the deadline. */
    const attempt = () => {
      const endpoint = pool.pick(tried);
      if (!endpoint) throw new ConnectError(`no healthy instance of ${target}`, Code.Unavailable);
      if (tried.size > 0) {
        clientRetries.inc({ target, method: method.name });
        mesh.retries++;
        log.debug({ target, method: method.name, instance: endpoint.address }, "retrying");
      }
      tried.add(endpoint.id);
      const timeoutMs = timeoutOfAttempt(deadline, retries > 0 ? policy.attemptTimeoutMs : 0, what);
      return endpoint.unary(method.localName, request, { ...options, timeoutMs });
    };

    /** Attempts, repeated while the failure is retryable and the deadline allows. */
    const attempts = (signal: AbortSignal) => {
      if (retries === 0) return attempt();
      // cockatiel's maxAttempts counts the retries, not the first attempt.
      const retrying = retry(
        handleWhen((error) => isRetryable(error, deadline)),
        { maxAttempts: retries, backoff: mesh.backoff },
      );
      return retrying.execute(attempt, signal);
    };

    return withDeadline(deadline, cancelledBy, what, async (signal) => {
      await pool.listed;
      // A queued call is started by whichever call frees a slot, so it re-enters its own call context:
      // it must carry its own request id, deadline and trace downstream, not that call's.
      const resume = () => traceContext.with(trace, () => runInCall(parent, () => attempts(signal)));
      return throughBulkhead(mesh, resume, signal);
    });
  };
}

/** Runs `fn` in the target's bulkhead; a call that finds it full fails at once, naming the target. */
async function throughBulkhead<T>(mesh: Mesh, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  try {
    return await mesh.bulkhead.execute(fn, signal);
  } catch (error) {
    if (!isBulkheadRejectedError(error)) throw error;
    const { limit, queue } = mesh.policy.bulkhead;
    const message = `too many calls to ${mesh.target}: ${limit} in flight and ${queue} waiting`;
    throw new ConnectError(message, Code.ResourceExhausted, undefined, undefined, error);
  }
}

function createServerStreamingFn(method: DescMethod, mesh: Mesh) {
  const { target, policy, pool } = mesh;
  const what = `${target} ${method.name}`;
  return (request: unknown, options: CallOptions = {}) => {
    const parent = currentCall();
    const trace = traceContext.active();
    const cancelledBy = [options.signal, parent?.signal].filter((signal) => signal !== undefined);
    const listed = () => withDeadline(deadlineOf(policy.timeoutMs, parent), cancelledBy, what, () => pool.listed);
    // The stream may be read after the handler that opened it has moved on, and must still inherit that
    // handler's request id, deadline, cancellation and trace: it is opened in the handler's contexts.
    const open = (endpoint: Endpoint) =>
      traceContext.with(trace, () =>
        runInCall(parent, () =>
          endpoint.serverStream(method.localName, request, {
            ...options,
            timeoutMs: options.timeoutMs ?? policy.timeoutMs,
          }),
        ),
      );
    return (async function* () {
      await listed();
      const endpoint = pool.pick(new Set());
      if (!endpoint) throw new ConnectError(`no healthy instance of ${target}`, Code.Unavailable);
      yield* open(endpoint);
    })();
  };
}
