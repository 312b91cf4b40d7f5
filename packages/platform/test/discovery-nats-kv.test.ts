// What the NATS KV registry does beyond the contract: sharing one bucket between services that start
// together, renewing entries, and surviving entries that other writers got wrong.
import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../src/discovery/create-registry.js";
import { REGISTRY_BUCKET } from "../src/discovery/nats-kv.js";
import type { Registry } from "../src/discovery/registry.js";
import type { ServiceInstance } from "../src/discovery/service-instance.js";
import { silentLogger } from "../src/log.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";
import { waitFor } from "../src/testing/wait.js";

const TTL_MS = 1_500;
const config = { registry: "nats-kv", ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3 } as const;

describe("NATS KV registry", () => {
  let nats: NatsServerHandle;
  const connections: NatsConnection[] = [];
  const registries: Registry[] = [];
  const connectNew = async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return nc;
  };
  const open = async (log = silentLogger(), ttlMs = TTL_MS) => {
    const registry = await createRegistry({ ...config, ttlMs }, { nc: await connectNew(), log });
    registries.push(registry);
    return registry;
  };

  // Its own server, so that the first test meets no bucket and the bucket's TTL is this file's.
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((registry) => registry.close()));
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
  });
  afterAll(() => nats.stop());

  it("shares one bucket among services that start together, whatever TTL each was given", async () => {
    const warnings = recordWarnings();
    const ttls = [TTL_MS, TTL_MS, 3_000, TTL_MS];

    await Promise.all(ttls.map((ttlMs) => open(warnings.log, ttlMs)));

    const nc = await connectNew();
    const { config: stream } = await (await jetstreamManager(nc)).streams.info(`KV_${REGISTRY_BUCKET}`);
    const bucketTtlMs = stream.max_age / 1e6;
    expect([TTL_MS, 3_000]).toContain(bucketTtlMs); // whichever service created it first
    const outvoted = ttls.filter((ttlMs) => ttlMs !== bucketTtlMs).length;
    expect(warnings.lines.filter((line) => line.bucketTtlMs === bucketTtlMs)).toHaveLength(outvoted);
    await (await new Kvm(nc).open(REGISTRY_BUCKET)).destroy(); // the next tests create it with their TTL
  });

  it("keeps a live instance past the TTL by renewing its entry every heartbeat", async () => {
    const [provider, client] = [await open(), await open()];
    const instance = instanceOf(uniqueService());
    const lists: string[][] = [];
    client.watch(instance.service, (instances) => lists.push(instances.map((i) => i.id)));
    await provider.register(instance);
    const kv = await new Kvm(await connectNew()).open(REGISTRY_BUCKET);
    const key = `${instance.service}.${instance.id}`;
    const first = await kv.get(key);

    await waitFor(
      async () => ((await kv.get(key))?.created.getTime() ?? 0) > (first?.created.getTime() ?? 0) + TTL_MS,
      {
        message: "the entry to be renewed beyond the TTL",
      },
    );

    expect(await client.lookup(instance.service)).toEqual([instance]);
    expect(lists).toEqual([[instance.id]]); // the renewals are no changes
  });

  it("skips malformed entries with a warning, in lookups and in watches", async () => {
    const warnings = recordWarnings();
    const [provider, client] = [await open(), await open(warnings.log)];
    const service = uniqueService();
    const good = instanceOf(service);
    await provider.register(good);
    const kv = await new Kvm(await connectNew()).open(REGISTRY_BUCKET);
    await kv.put(`${service}.garbled`, "{not json");
    await kv.put(`${service}.portless`, JSON.stringify({ ...instanceOf(service), id: "portless", port: undefined }));
    await kv.put(`${service}.misfiled`, JSON.stringify({ ...instanceOf(service), id: "elsewhere" }));

    expect(await client.lookup(service)).toEqual([good]);
    const lists: ServiceInstance[][] = [];
    client.watch(service, (instances) => lists.push(instances));
    await waitFor(() => lists.length === 1, { message: "the current list" });

    expect(lists).toEqual([[good]]);
    const skipped = new Set(warnings.lines.map((line) => line.key));
    expect(skipped).toEqual(new Set([`${service}.garbled`, `${service}.portless`, `${service}.misfiled`]));
  });

  it("deregisters what is still registered when the registry closes", async () => {
    const [provider, client] = [await open(), await open()];
    const instance = instanceOf(uniqueService());
    await provider.register(instance);

    await provider.close();

    expect(await client.lookup(instance.service)).toEqual([]);
  });
});

/** A logger that keeps its warnings as parsed lines. */
function recordWarnings() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

function uniqueService(): string {
  return `svc-${randomUUID().slice(0, 8)}`;
}

function instanceOf(service: string): ServiceInstance {
  const id = `${service}-${randomUUID().slice(0, 8)}`;
  return { service, id, address: "127.0.0.1", port: 50_053, version: "1.2.0", tags: [] };
}
