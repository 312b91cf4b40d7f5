import { Writable } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import type { Client, ServiceImpl } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { pino } from "pino";
import { afterEach } from "vitest";
import type { Registry, ServiceInstance } from "../src/discovery/index.js";
import { createGrpcClient, type GrpcServer, implement, type ServiceRegistration } from "../src/grpc/index.js";
import { type Logger, silentLogger } from "../src/log.js";
import { type CallPolicy, createMeshClient, DEFAULT_CALL_POLICY, type MeshClient } from "../src/resilience/index.js";
import { fakeKitchen, useGrpc } from "./grpc-fixtures.js";

/**
 * A Registry test double: an in-memory list per service that the test edits with `set`. Like the real
 * ones, `watch` reports the current list asynchronously, then every new list.
 */
export function createTestRegistry(): Registry & { set(service: string, instances: ServiceInstance[]): void } {
  const lists = new Map<string, ServiceInstance[]>();
  const watchers = new Set<{ service: string; onChange: (instances: ServiceInstance[]) => void }>();
  const notify = (service: string) => {
    for (const watcher of watchers) {
      if (watcher.service !== service) continue;
      const list = [...(lists.get(service) ?? [])];
      queueMicrotask(() => watchers.has(watcher) && watcher.onChange(list));
    }
  };
  const set = (service: string, instances: ServiceInstance[]) => {
    lists.set(service, instances);
    notify(service);
  };
  return {
    kind: "static",
    set,
    async register(instance) {
      set(instance.service, [...(lists.get(instance.service) ?? []), instance]);
      return {
        instance,
        deregister: async () =>
          set(
            instance.service,
            (lists.get(instance.service) ?? []).filter((i) => i !== instance),
          ),
      };
    },
    lookup: async (service) => [...(lists.get(service) ?? [])],
    watch(service, onChange) {
      const watcher = { service, onChange };
      watchers.add(watcher);
      const list = [...(lists.get(service) ?? [])];
      queueMicrotask(() => watchers.has(watcher) && onChange(list));
      return { stop: () => watchers.delete(watcher) };
    },
    close: async () => watchers.clear(),
  };
}

/** The registry entry of `server` as an instance of `service`. */
export function instanceOf(server: GrpcServer, id: string, service = "kitchen"): ServiceInstance {
  return { service, id, address: "127.0.0.1", port: server.port, version: "1.0.0", tags: [] };
}

/** Policy overrides for tests: each section replaces only the numbers it names. */
export interface PolicyOverrides {
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  bulkhead?: Partial<CallPolicy["bulkhead"]>;
  breaker?: { failures?: number; halfOpenAfterMs?: number };
  retry?: Partial<CallPolicy["retry"]>;
}

/** DEFAULT_CALL_POLICY with short pauses (tests must not wait 5 s for a half-open) and the overrides. */
export function testPolicy(overrides: PolicyOverrides = {}): CallPolicy {
  const base = DEFAULT_CALL_POLICY;
  return {
    timeoutMs: overrides.timeoutMs ?? base.timeoutMs,
    attemptTimeoutMs: overrides.attemptTimeoutMs ?? base.attemptTimeoutMs,
    bulkhead: { ...base.bulkhead, ...overrides.bulkhead },
    breaker: { ...base.breaker, halfOpenAfterMs: 300, ...overrides.breaker },
    retry: { ...base.retry, initialDelayMs: 10, maxDelayMs: 50, ...overrides.retry },
  };
}

/** A logger that keeps what it writes, parsed, for tests about logging. */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "warn" }, sink), lines };
}

/** A kitchen server in a test: its address, its AdminService, and how many calls its handlers ran. */
export interface TestKitchen {
  readonly server: GrpcServer;
  readonly admin: Client<typeof AdminService>;
  /** GetMenu calls that reached the handler (a fault that answers for it keeps the handler from running). */
  handled(): number;
}

/**
 * The setup of the resilience tests: real servers on port 0, a test registry listing them, and mesh
 * clients, all closed after each test.
 */
export function useMesh() {
  const grpc = useGrpc();
  const registry = createTestRegistry();
  const clients: { close(): void }[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const service of ["kitchen", "order"]) registry.set(service, []);
  });

  async function serve(services: ServiceRegistration[], port = 0): Promise<GrpcServer> {
    return grpc.serve(services, { port });
  }

  return {
    registry,
    serve,
    /** A kitchen server on `port` (0: any) whose GetMenu counts its calls; `overrides` replace handlers. */
    async serveKitchen(port = 0, overrides: Partial<ServiceImpl<typeof KitchenService>> = {}): Promise<TestKitchen> {
      let handled = 0;
      const kitchen = fakeKitchen(overrides);
      const getMenu: ServiceImpl<typeof KitchenService>["getMenu"] = (request, ctx) => {
        handled++;
        return kitchen.getMenu(request, ctx);
      };
      const server = await serve([implement(KitchenService, { ...kitchen, getMenu })], port);
      return { server, admin: admin(server), handled: () => handled };
    },
    admin,
    /** A mesh client of `target`, closed after the test. */
    client<S extends DescService>(
      service: S,
      policy: CallPolicy,
      options: { target?: string; log?: Logger } = {},
    ): MeshClient<S> {
      const client = createMeshClient(service, {
        target: options.target ?? "kitchen",
        registry,
        policy,
        log: options.log ?? silentLogger(),
      });
      clients.push(client);
      return client;
    },
  };

  function admin(server: GrpcServer) {
    return createGrpcClient(AdminService, grpc.connect(server));
  }
}
