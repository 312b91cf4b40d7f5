// The NATS KV registry heals: a bucket deleted under a running mesh comes back at the next heartbeat,
// with every instance in it and every watch following it, and a registry that stays broken for a while
// costs two log lines per instance (it broke, it is back), not one per heartbeat.
import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../src/discovery/create-registry.js";
import { REGISTRY_BUCKET } from "../src/discovery/nats-kv.js";
import { type Registry, RegistryUnavailableError } from "../src/discovery/registry.js";
import type { ServiceInstance } from "../src/discovery/service-instance.js";
import { silentLogger } from "../src/log.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";
import { breakRegistry, deleteRegistryStream } from "../src/testing/registry-faults.js";
import { waitFor } from "../src/testing/wait.js";

const TTL_MS = 1_500;
const config = { registry: "nats-kv", ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3 } as const;

describe("NATS KV registry healing", () => {
  let nats: NatsServerHandle;
  const connections: NatsConnection[] = [];
  const registries: Registry[] = [];
  const connectNew = async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return nc;
  };
  const open = async (log = silentLogger()) => {
    const registry = await createRegistry(config, { nc: await connectNew(), log });
    registries.push(registry);
    return registry;
  };

  // Its own server: these tests delete and break the registry bucket.
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((registry) => registry.close().catch(() => {})));
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
  });
  afterAll(() => nats.stop());

  it("recreates a deleted bucket at the next heartbeat, with its TTL, and watches follow the new one", async () => {
    const [provider, client] = [await open(), await open()];
    const service = uniqueService();
    const [first, second] = [instanceOf(service), instanceOf(service)];
    await provider.register(first);
    const lists: string[][] = [];
    client.watch(service, (instances) => lists.push(instances.map((i) => i.id)));
    await waitFor(() => lists.length === 1, { message: "the current list" });
    const nc = await connectNew();

    await deleteRegistryStream(nc);

    await expect(client.lookup(service)).rejects.toThrow(RegistryUnavailableError);
    await waitFor(async () => (await client.lookup(service).catch(() => [])).length === 1, {
      message: "the bucket to come back with the instance in it",
    });
    const { config: stream } = await (await jetstreamManager(nc)).streams.info(`KV_${REGISTRY_BUCKET}`);
    expect(stream.max_age / 1e6).toBe(TTL_MS);
    // A watch that still followed the deleted stream would never see these two changes.
    const registration = await provider.register(second);
    await waitFor(() => lists.at(-1)?.length === 2, { message: () => `both instances watched, saw ${lists}` });
    await registration.deregister();
    await waitFor(() => lists.at(-1)?.join() === first.id, { message: () => `the second gone, saw ${lists}` });
  });

  it("logs a failing heartbeat once when it starts failing and once when it recovers", async () => {
    const lines: { msg: string; reason?: string; failedAttempts?: number }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const [provider, client] = [await open(log), await open()];
    const instance = instanceOf(uniqueService());
    await provider.register(instance);
    const broken = await breakRegistry(await connectNew());

    // A failing beat puts twice: once, and again after trying to recreate the bucket.
    await waitFor(() => broken.attempts(instance.service) >= 8, { message: "four failed heartbeats" });
    await expect(client.lookup(instance.service)).rejects.toThrow(/service registry cannot be read/);
    await broken.repair();
    await waitFor(async () => (await client.lookup(instance.service).catch(() => [])).length === 1, {
      message: "the bucket to come back with the instance in it",
    });

    const failing = lines.filter((line) => line.msg.startsWith("registry heartbeat failing"));
    const recovered = lines.filter((line) => line.msg === "registry recovered");
    expect(failing).toHaveLength(1);
    expect(failing[0]?.reason).toMatch(/broken by a test/);
    expect(recovered).toHaveLength(1);
    // The beat in flight at the repair may recreate the bucket and succeed: three failed at least.
    expect(recovered[0]?.failedAttempts).toBeGreaterThanOrEqual(3);
  });
});

function uniqueService(): string {
  return `svc-${randomUUID().slice(0, 8)}`;
}

function instanceOf(service: string): ServiceInstance {
  const id = `${service}-${randomUUID().slice(0, 8)}`;
  return { service, id, address: "127.0.0.1", port: 50_053, version: "1.2.0", tags: [] };
}
