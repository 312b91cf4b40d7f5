// The instance pool of one target service: its healthy instances, kept current from the service registry
// (client-side discovery), each with its own connection and circuit breaker, and the choice of the instance
// a call goes to. A breaker per instance, not per service: one sick instance must not stop calls to the others.
import type { DescService } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import type { Registry, ServiceInstance } from "../discovery/index.js";
import { ROUTER_TAG, ROUTER_TARGET_HEADER } from "../discovery/router.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport } from "../grpc/client.js";
import type { Logger } from "../log.js";
import type { MeshTls } from "../mesh-tls.js";
import { breakerState } from "../telemetry/metrics.js";
import { type BreakerState, createInstanceBreaker, type InstanceBreaker } from "./breaker.js";
import type { CallPolicy } from "./policy.js";

/** One instance of a target as a mesh client sees it, for `MeshClient.instances()` and dashboards. */
export interface InstanceState {
  readonly id: string;
  /** "host:port". */
  readonly address: string;
  readonly breaker: BreakerState;
  /** Calls sent to it that have not ended yet. */
  readonly outstanding: number;
}

/** A connection to one instance: its typed client, its breaker, what is in flight. */
export interface Endpoint {
  readonly id: string;
  readonly address: string;
  /** A unary call through the instance's breaker, counted as outstanding while it runs. */
  unary(method: string, request: unknown, options: CallOptions): Promise<unknown>;
  /** A server-streaming call, straight to the instance: a stream's length says nothing about its health. */
  serverStream(method: string, request: unknown, options: CallOptions): AsyncIterable<unknown>;
}

/** The healthy instances of one target, kept current from the registry, and the choice among them. */
export interface InstancePool {
  /** Resolves once the registry has listed the target's instances for the first time. */
  readonly listed: Promise<void>;
  /**
   * The next instance round-robin, preferring those whose breaker accepts calls and, among them, those
   * this call has not `tried` yet, so that a retry goes elsewhere. With every breaker open it still
   * returns one, whose breaker then fails the call fast. Undefined when the registry lists none.
   */
  pick(tried: ReadonlySet<string>): Endpoint | undefined;
  states(): InstanceState[];
  close(): void;
}

interface Entry extends Endpoint {
  readonly instance: ServiceInstance;
  readonly breaker: InstanceBreaker;
  readonly transport: GrpcTransport;
  outstanding: number;
}

/** The generated client's methods, indexed by local name; the mesh client's own surface is the typed one. */
type UntypedClient = Record<string, (request: unknown, options: CallOptions) => unknown>;

export interface InstancePoolOptions {
  readonly target: string;
  readonly registry: Registry;
  readonly policy: CallPolicy;
  readonly log: Logger;
  /** The secure mode (`config.tls`): every connection to an instance is mTLS with this identity. */
  readonly tls?: MeshTls;
}

/**
 * Client-side discovery and load balancing for one target. It watches the registry, so the list follows
 * instances as they start, stop and fail their health checks; it keeps one gRPC connection per instance,
 * shared by every call to it, and closes it when the instance leaves the list.
 *
 * Round-robin rather than least-outstanding: with identical instances it spreads the load evenly and
 * predictably (a test can count the calls each server got), while the circuit breakers already steer
 * calls away from an instance that fails. Least-outstanding reacts faster to one slow instance, but at low
 * load every count is 0 and it keeps choosing the first.
 */
export function createInstancePool(service: DescService, options: InstancePoolOptions): InstancePool {
  const { target, registry, policy, log, tls } = options;
  const entries = new Map<string, Entry>();
  let next = 0;
  let onListed = () => {};
  const listed = new Promise<void>((resolve) => {
    onListed = resolve;
  });

  const open = (instance: ServiceInstance): Entry => {
    const address = `${instance.address}:${instance.port}`;
    const routed = instance.tags.includes(ROUTER_TAG);
    // In the secure mode an instance must prove it is the target: its certificate's CN is the target's name.
    // Not so the router of server-side discovery, which answers for every target.
    const serverName = routed ? undefined : target;
    const transport = createGrpcTransport({ address, defaultTimeoutMs: policy.timeoutMs, tls, serverName });
    const client = createGrpcClient(service, transport) as unknown as UntypedClient;
    const options = routed ? namingTarget(target) : (callOptions: CallOptions) => callOptions;
    const breaker = createInstanceBreaker(policy.breaker, { target, address }, log);
    const entry: Entry = {
      id: instance.id,
      address,
      instance,
      breaker,
      transport,
      outstanding: 0,
      async unary(method, request, callOptions) {
        entry.outstanding++;
        try {
          return await breaker.execute(async () => client[method](request, options(callOptions)));
        } finally {
          entry.outstanding--;
        }
      },
      serverStream: (method, request, callOptions) =>
        client[method](request, options(callOptions)) as AsyncIterable<unknown>,
    };
    return entry;
  };

  const update = (instances: readonly ServiceInstance[]) => {
    const current = new Map(instances.map((instance) => [instance.id, instance]));
    for (const [id, entry] of entries) {
      const now = current.get(id);
      if (now && now.address === entry.instance.address && now.port === entry.instance.port) continue;
      // In-flight calls on the old connection finish; new ones go to the instances still listed.
      entry.transport.close();
      entries.delete(id);
      breakerState.remove({ target, target_instance: entry.address }); // no gauge for an instance that is gone
      log.info({ target, instance: entry.address }, "instance left");
    }
    for (const instance of instances) {
      if (entries.has(instance.id)) continue;
      const entry = open(instance);
      entries.set(instance.id, entry);
      log.info({ target, instance: entry.address }, "instance joined");
    }
  };

  const watch = registry.watch(target, (instances) => {
    update(instances);
    onListed();
  });

  return {
    listed,
    pick(tried) {
      const all = [...entries.values()];
      const accepting = all.filter((entry) => entry.breaker.acceptsCalls());
      const untried = accepting.filter((entry) => !tried.has(entry.id));
      const choices = untried.length > 0 ? untried : accepting.length > 0 ? accepting : all;
      if (choices.length === 0) return undefined;
      return choices[next++ % choices.length];
    },
    states: () =>
      [...entries.values()].map(({ id, address, breaker, outstanding }) => ({
        id,
        address,
        breaker: breaker.state,
        outstanding,
      })),
    close() {
      watch.stop();
      for (const entry of entries.values()) entry.transport.close();
      entries.clear();
    },
  };
}

/**
 * Under server-side discovery the one "instance" is the router: every call carries the target's name in
 * ROUTER_TARGET_HEADER, so that the router can route a method all services share (the health check) too.
 */
function namingTarget(target: string): (options: CallOptions) => CallOptions {
  return (options) => {
    const headers = new Headers(options.headers);
    headers.set(ROUTER_TARGET_HEADER, target);
    return { ...options, headers };
  };
}
