// A service that reports NOT_SERVING (draining, or switched off by an operator) gets no new calls before
// it is gone: self-registration takes it out of the NATS KV registry at once, not when its TTL runs out,
// and puts it back when it reports SERVING again. Real nats-server, real gRPC servers, a real mesh client.
import { randomUUID } from "node:crypto";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createRegistry } from "../src/discovery/create-registry.js";
import type { Registry } from "../src/discovery/registry.js";
import { registerSelf, type SelfRegistration } from "../src/discovery/self-registration.js";
import { implement } from "../src/grpc/index.js";
import { silentLogger } from "../src/log.js";
import { createMeshClient, type MeshClient } from "../src/resilience/index.js";
import { waitFor } from "../src/testing/wait.js";
import { fakeKitchen, useGrpc } from "./grpc-fixtures.js";
import { testPolicy } from "./resilience-fixtures.js";

// A TTL far longer than any wait below: an entry that left, left because of NOT_SERVING, not by expiry.
const TTL_MS = 60_000;
const WAIT = { timeoutMs: 15_000 };

describe("self-registration follows NOT_SERVING (NATS KV)", () => {
  const grpc = useGrpc();
  let nc: NatsConnection;
  let registry: Registry;
  const selves: SelfRegistration[] = [];
  const clients: MeshClient<typeof KitchenService>[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    registry = await createRegistry(
      { registry: "nats-kv", ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3 },
      { nc, log: silentLogger() },
    );
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(selves.splice(0).map((self) => self.withdraw()));
  });
  afterAll(async () => {
    await registry.close();
    await nc.close();
  });

  /** A kitchen server registered as an instance of `service`, counting the GetMenu calls it handles. */
  async function startKitchen(service: string) {
    let handled = 0;
    const kitchen = fakeKitchen();
    const server = await grpc.serve(
      [
        implement(KitchenService, {
          ...kitchen,
          getMenu: (request, ctx) => {
            handled++;
            return kitchen.getMenu(request, ctx);
          },
        }),
      ],
      { servingOnStart: false },
    );
    const self = await registerSelf(registry, server, { service, advertiseHost: "127.0.0.1" });
    selves.push(self);
    return { server, self, handled: () => handled };
  }

  const ids = async (service: string) => (await registry.lookup(service)).map((instance) => instance.id);

  it("takes a NOT_SERVING instance out of lookup and watch at once, and puts it back when SERVING", async () => {
    const service = `ns-${randomUUID().slice(0, 8)}`;
    const a = await startKitchen(service);
    let watched: string[] = [];
    const watch = registry.watch(service, (instances) => {
      watched = instances.map((instance) => instance.id);
    });
    try {
      await waitFor(() => watched.includes(a.self.instance.id), { ...WAIT, message: "the watch to list a" });

      a.server.setServing(false);
      await waitFor(async () => !(await ids(service)).includes(a.self.instance.id), {
        ...WAIT,
        message: "lookup to drop the NOT_SERVING instance",
      });
      await waitFor(() => watched.length === 0, { ...WAIT, message: "the watch to drop the NOT_SERVING instance" });

      a.server.setServing(true);
      await waitFor(async () => (await ids(service)).includes(a.self.instance.id), {
        ...WAIT,
        message: "lookup to list the instance again, under the same id",
      });
      await waitFor(() => watched.includes(a.self.instance.id), { ...WAIT, message: "the watch to list it again" });
    } finally {
      watch.stop();
    }
  });

  it("sends a mesh client's new calls only to the instance that is still SERVING", async () => {
    const service = `ns-${randomUUID().slice(0, 8)}`;
    const a = await startKitchen(service);
    const b = await startKitchen(service);
    const kitchen = createMeshClient(KitchenService, {
      target: service,
      registry,
      policy: testPolicy(),
      log: silentLogger(),
    });
    clients.push(kitchen);
    await waitFor(() => kitchen.instances().length === 2, { ...WAIT, message: "the client to see both instances" });
    for (let i = 0; i < 4; i++) await kitchen.getMenu({ restaurantId: "r-1" });
    expect([a.handled(), b.handled()]).toEqual([2, 2]);

    a.server.setServing(false);
    await waitFor(() => kitchen.instances().length === 1, { ...WAIT, message: "the client to drop instance a" });
    for (let i = 0; i < 6; i++) await kitchen.getMenu({ restaurantId: "r-1" });

    expect([a.handled(), b.handled()]).toEqual([2, 8]);
    expect(kitchen.instances().map((instance) => instance.id)).toEqual([b.self.instance.id]);

    a.server.setServing(true);
    await waitFor(() => kitchen.instances().length === 2, { ...WAIT, message: "the client to see a again" });
  });

  it("withdraw leaves the instance NOT_SERVING and out of the registry for good", async () => {
    const service = `ns-${randomUUID().slice(0, 8)}`;
    const a = await startKitchen(service);
    await selves.splice(selves.indexOf(a.self), 1)[0]?.withdraw();
    expect(await ids(service)).toEqual([]);

    a.server.setServing(true); // after withdraw, health no longer drives the registry
    a.server.setServing(false);
    a.server.setServing(true);
    expect(await ids(service)).toEqual([]);
  });
});
