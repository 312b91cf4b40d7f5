// One contract, every service registry: what self-registration and client-side discovery promise,
// whichever backend keeps the entries. NATS KV runs against a real nats-server, Consul against a real
// agent (v1.16.3 in -dev mode, built by `make consul`): without one the Consul tests fail, never skip.
import { randomUUID } from "node:crypto";
import { type ConsulAgent, startConsulAgent } from "@ftgo/harness/consul-agent.js";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { connect } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../src/discovery/create-registry.js";
import type { Registration, Registry } from "../src/discovery/registry.js";
import type { ServiceInstance } from "../src/discovery/service-instance.js";
import { addHealth } from "../src/grpc/health.js";
import { silentLogger } from "../src/log.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";
import { waitFor } from "../src/testing/wait.js";

/** One service process as the registry sees it: its own registry client, and a way to die abruptly. */
interface ServiceProcess {
  readonly registry: Registry;
  /** An instance of `service` living in this process. */
  instance(service: string): ServiceInstance;
  /** Dies without deregistering: no heartbeat, no health answers. */
  crash(): Promise<void>;
  /** Its gRPC health status (SERVING or NOT_SERVING), where the backend reads one (Consul's check). */
  setServing?(serving: boolean): void;
  close(): Promise<void>;
}

interface Backend {
  readonly kind: "nats-kv" | "consul";
  /** How long a registration may take to show (Consul waits for the first passing check). */
  readonly showMs: number;
  /** How long a crashed instance may stay in lookups, and in watches. */
  readonly lookupExpiryMs: number;
  readonly watchExpiryMs: number;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  start(): Promise<ServiceProcess>;
}

const TTL_MS = 1_500;
const SLACK_MS = 2_000; // a loaded two-core machine
const log = silentLogger();
let ports = 40_000;

const natsKv = (): Backend => {
  let nats: NatsServerHandle;
  return {
    kind: "nats-kv",
    showMs: 2_000,
    lookupExpiryMs: TTL_MS + SLACK_MS, // the server drops the entry TTL after the last heartbeat
    watchExpiryMs: TTL_MS * 1.5 + SLACK_MS, // plus up to one re-list period (TTL / 2)
    // Its own server: the bucket's TTL is fixed when it is created, and this file wants a short one.
    setup: async () => {
      nats = await startNatsServer();
    },
    teardown: () => nats.stop(),
    async start() {
      const nc = await connect({ servers: nats.url });
      const config = { registry: "nats-kv", ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3 } as const;
      const registry = await createRegistry(config, { nc, log });
      return {
        registry,
        instance: (service) => instanceOf(service, "127.0.0.1", ++ports),
        crash: () => nc.close(), // heartbeats die with the connection; the entry stays until its TTL
        async close() {
          await registry.close();
          await nc.close();
        },
      };
    },
  };
};

const consul = (): Backend => {
  let agent: ConsulAgent | undefined;
  // A check every 500 ms (timeout 300 ms): a crashed instance turns critical within about a second.
  const check = { interval: "500ms", timeout: "300ms", deregisterAfter: "1m" } as const;
  return {
    kind: "consul",
    showMs: 15_000, // the first passing check, on a loaded machine
    lookupExpiryMs: 15_000, // the next failed check, on a loaded machine
    watchExpiryMs: 15_000,
    // Its own agent (-dev, free ports, temp data dir), so that tests never meet another run's entries.
    setup: async () => {
      agent = await startConsulAgent();
    },
    teardown: async () => agent?.stop(),
    async start() {
      // What the agent probes: a gRPC server with the standard health service, SERVING.
      const server = new Server();
      const health = addHealth(server, []);
      health.setServing(true);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
          err ? reject(err) : resolve(bound),
        ),
      );
      const config = { registry: "consul", ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3 } as const;
      const registry = await createRegistry({ ...config, consulAddr: agent?.httpAddr, consulCheck: check }, { log });
      return {
        registry,
        instance: (service) => instanceOf(service, "127.0.0.1", port),
        crash: async () => server.forceShutdown(),
        setServing: (serving) => health.setServing(serving),
        async close() {
          await registry.close();
          server.forceShutdown();
        },
      };
    },
  };
};

for (const backend of [natsKv(), consul()]) {
  describe(`${backend.kind} registry`, () => {
    const open: ServiceProcess[] = [];
    const stops: (() => void)[] = [];
    const start = async () => {
      const started = await backend.start();
      open.push(started);
      return started;
    };
    /** Records every list a watch reports. */
    const watch = (registry: Registry, service: string) => {
      const lists: string[][] = [];
      const { stop } = registry.watch(service, (instances) => lists.push(instances.map((i) => i.id)));
      stops.push(stop);
      return lists;
    };
    const ids = async (registry: Registry, service: string) => (await registry.lookup(service)).map((i) => i.id);
    const shows = (registry: Registry, service: string, expected: string[]) =>
      waitFor(async () => JSON.stringify(await ids(registry, service)) === JSON.stringify(expected), {
        timeoutMs: backend.showMs,
        message: `lookup(${service}) to list ${expected.join(", ") || "nothing"}`,
      });

    beforeAll(() => backend.setup());
    afterEach(async () => {
      for (const stop of stops.splice(0)) stop();
      await Promise.all(open.splice(0).map((started) => started.close()));
    });
    afterAll(() => backend.teardown());

    it("finds an instance once it has registered itself", async () => {
      const [provider, client] = [await start(), await start()];
      const service = uniqueService();
      const instance = provider.instance(service);

      const registration = await provider.registry.register(instance);

      expect(registration.instance).toEqual(instance);
      await shows(client.registry, service, [instance.id]);
      expect(await client.registry.lookup(service)).toEqual([instance]);
      expect(await client.registry.lookup(uniqueService())).toEqual([]);
    });

    it("lists every instance of a service, and no other service's", async () => {
      const [a, b, client] = [await start(), await start(), await start()];
      const [service, other] = [uniqueService(), uniqueService()];
      const instances = [a.instance(service), b.instance(service)];

      await Promise.all([...instances, a.instance(other)].map((instance) => a.registry.register(instance)));

      await shows(client.registry, service, instances.map((i) => i.id).sort());
    });

    it("watch reports the current list first, then each arrival and departure", async () => {
      const [a, b, client] = [await start(), await start(), await start()];
      const service = uniqueService();
      const [first, second] = [a.instance(service), b.instance(service)];
      const registration = await a.registry.register(first);
      await shows(client.registry, service, [first.id]);

      const lists = watch(client.registry, service);
      await waitFor(() => lists.length === 1, { message: "the current list" });
      await b.registry.register(second);
      await waitFor(() => lists.length === 2, { timeoutMs: backend.showMs, message: "the arrival" });
      await registration.deregister();
      await waitFor(() => lists.length === 3, { message: "the departure" });

      expect(lists).toEqual([[first.id], [first.id, second.id].sort(), [second.id]]);
    });

    it("forgets an instance at once when it deregisters", async () => {
      const [provider, client] = [await start(), await start()];
      const service = uniqueService();
      const [leaving, staying] = [provider.instance(service), provider.instance(service)];
      const registrations: Registration[] = [];
      for (const instance of [leaving, staying]) registrations.push(await provider.registry.register(instance));
      await shows(client.registry, service, [leaving.id, staying.id].sort());

      await registrations[0]?.deregister();

      expect(await ids(client.registry, service)).toEqual([staying.id]);
      await registrations[0]?.deregister(); // a second call changes nothing
      expect(await ids(client.registry, service)).toEqual([staying.id]);
    });

    it("drops an instance that crashed without deregistering, from lookups and watches", async () => {
      const [doomed, client] = [await start(), await start()];
      const service = uniqueService();
      const instance = doomed.instance(service);
      await doomed.registry.register(instance);
      await shows(client.registry, service, [instance.id]);
      const lists = watch(client.registry, service);
      await waitFor(() => lists.length === 1, { message: "the current list" });

      await doomed.crash();

      await waitFor(async () => (await ids(client.registry, service)).length === 0, {
        timeoutMs: backend.lookupExpiryMs,
        intervalMs: 10, // look often: a lookup racing the expiry of the entry it lists must not stall
        message: "lookup to drop the crashed instance",
      });
      await waitFor(() => lists.at(-1)?.length === 0, {
        timeoutMs: backend.watchExpiryMs,
        message: "watch to drop the crashed instance",
      });
      expect(lists).toEqual([[instance.id], []]);
    });

    // Consul reads the instance's own grpc.health.v1 status: a draining instance leaves before it is gone.
    if (backend.kind === "consul") {
      it("drops an instance that reports NOT_SERVING, and lists it again once it is SERVING", async () => {
        const [provider, client] = [await start(), await start()];
        const service = uniqueService();
        const instance = provider.instance(service);
        await provider.registry.register(instance);
        await shows(client.registry, service, [instance.id]);
        const lists = watch(client.registry, service);
        await waitFor(() => lists.length === 1, { message: "the current list" });

        provider.setServing?.(false);
        await shows(client.registry, service, []);
        await waitFor(() => lists.at(-1)?.length === 0, {
          timeoutMs: backend.watchExpiryMs,
          message: "watch to drop it",
        });
        provider.setServing?.(true);
        await shows(client.registry, service, [instance.id]);

        expect(lists.slice(0, 2)).toEqual([[instance.id], []]);
      });
    }
  });
}

describe("static registry", () => {
  const config = {
    registry: "static",
    ttlMs: TTL_MS,
    heartbeatMs: TTL_MS / 3,
    staticInstances: [
      instanceOf("kitchen", "127.0.0.1", 50063, "kitchen-2"),
      instanceOf("order", "127.0.0.1", 50051, "order-1"),
      instanceOf("kitchen", "127.0.0.1", 50053, "kitchen-1"),
    ],
  } as const;

  it("lists the configured instances of a service, ordered by id", async () => {
    const registry = await createRegistry(config, { log });

    expect((await registry.lookup("kitchen")).map((i) => i.port)).toEqual([50053, 50063]);
    expect(await registry.lookup("delivery")).toEqual([]);
    await registry.close();
  });

  it("watch reports the list once; self-registration changes nothing", async () => {
    const registry = await createRegistry(config, { log });
    const lists: string[][] = [];
    const { stop } = registry.watch("order", (instances) => lists.push(instances.map((i) => i.id)));

    const registration = await registry.register(instanceOf("order", "127.0.0.1", 50061, "order-2"));
    await registration.deregister();
    await waitFor(() => lists.length === 1, { message: "the configured list" });

    expect(lists).toEqual([["order-1"]]);
    expect((await registry.lookup("order")).map((i) => i.id)).toEqual(["order-1"]);
    stop();
    await registry.close();
  });
});

function uniqueService(): string {
  return uniqueId("svc");
}

function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function instanceOf(service: string, address: string, port: number, id = uniqueId(service)): ServiceInstance {
  return { service, id, address, port, version: "1.2.0", tags: ["contract"] };
}
