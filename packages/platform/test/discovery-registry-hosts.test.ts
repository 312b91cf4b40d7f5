// The learner's mode's open registry, checked on the way out: an entry anyone put into the NATS KV bucket is
// dialled only if its host is on the allowed list (127.0.0.1, localhost, ::1 and the process's own advertised
// host, or REGISTRY_ALLOWED_HOSTS) and its port a whole number from 1 to 65535. A fake Kitchen at evil.example
// or at port 0 is never looked up nor watched, and the reason is logged once.
import { randomUUID } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createRegistry } from "../src/discovery/create-registry.js";
import { REGISTRY_BUCKET } from "../src/discovery/nats-kv.js";
import type { Registry } from "../src/discovery/registry.js";
import type { ServiceInstance } from "../src/discovery/service-instance.js";
import type { Env } from "../src/env.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";
import { waitFor } from "../src/testing/wait.js";

const load = (env: Env) => loadConfig(env, { service: "order", port: 50051 }).discovery;

describe("REGISTRY_ALLOWED_HOSTS", () => {
  it("is left to the defaults (127.0.0.1, localhost, ::1) when nothing else is advertised", () => {
    expect(load({}).allowedHosts).toBeUndefined();
    expect(load({ FTGO_ADVERTISE_HOST: "localhost" }).allowedHosts).toBeUndefined();
  });

  it("adds the process's own advertised host to the defaults", () => {
    expect(load({ FTGO_ADVERTISE_HOST: "Kitchen" }).allowedHosts).toEqual(["127.0.0.1", "localhost", "::1", "kitchen"]);
    expect(load({ FTGO_HOST: "10.1.2.3" }).allowedHosts).toEqual(["127.0.0.1", "localhost", "::1", "10.1.2.3"]);
    expect(load({ FTGO_HOST: "0.0.0.0" }).allowedHosts).toBeUndefined(); // a wildcard is dialled by nobody
  });

  it("replaces the list when set, and reports a list that names no host or a host with spaces", () => {
    expect(load({ REGISTRY_ALLOWED_HOSTS: "order, kitchen,[::1]" }).allowedHosts).toEqual(["order", "kitchen", "::1"]);
    expect(() => load({ REGISTRY_ALLOWED_HOSTS: " , " })).toThrow(/REGISTRY_ALLOWED_HOSTS is set but names no host/);
    expect(() => load({ REGISTRY_ALLOWED_HOSTS: "a b,c" })).toThrow(/REGISTRY_ALLOWED_HOSTS: "a b" is not a host/);
  });
});

describe("a NATS KV registry entry", () => {
  let nats: NatsServerHandle;
  let writer: NatsConnection;
  let reader: NatsConnection;
  const warnings: Record<string, unknown>[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  let registry: Registry;

  beforeAll(async () => {
    nats = await startNatsServer();
    writer = await connect({ servers: nats.url });
    reader = await connect({ servers: nats.url });
    registry = await createRegistry({ registry: "nats-kv", ttlMs: 30_000, heartbeatMs: 10_000 }, { nc: reader, log });
  });

  afterAll(async () => {
    await registry?.close();
    await Promise.all([writer?.close(), reader?.close()]);
    await nats?.stop();
  });

  /** What anyone with a plain NATS client can do on the learner's open broker: put an entry by hand. */
  async function put(instance: Record<string, unknown>): Promise<void> {
    const kv = await new Kvm(writer).open(REGISTRY_BUCKET);
    await kv.put(`${instance.service}.${instance.id}`, JSON.stringify(instance));
  }

  const instance = (service: string, id: string, address: string, port: number): ServiceInstance => ({
    service,
    id,
    address,
    port,
    version: "1.0.0",
    tags: [],
  });

  it("naming a host off the allowed list, or port 0, is never looked up nor watched; the reason is logged once", async () => {
    const service = `kitchen-${randomUUID().slice(0, 8)}`;
    const real = instance(service, "k-real", "127.0.0.1", 50_053);
    await put({ ...real });
    await put({ ...instance(service, "k-evil", "evil.example", 50_053) });
    await put({ ...instance(service, "k-zero", "127.0.0.1", 0) });
    await put({ ...instance(service, "k-half", "127.0.0.1", 50_053.5) });

    expect(await registry.lookup(service)).toEqual([real]);
    let watched: readonly ServiceInstance[] = [];
    const watch = registry.watch(service, (instances) => {
      watched = instances;
    });
    try {
      await waitFor(() => watched.length > 0, { timeoutMs: 5_000, message: "the watch to list the service" });
      expect(watched).toEqual([real]);
      await put({ ...instance(service, "k-evil-2", "evil.example", 50_054) }); // arriving while watched
      await put({ ...instance(service, "k-local", "localhost", 50_055) }); // a host on the list: admitted
      await waitFor(() => watched.some(({ id }) => id === "k-local"), { timeoutMs: 5_000, message: "k-local" });
      expect(watched.map(({ id }) => id)).toEqual(["k-local", "k-real"]);
      expect(await registry.lookup(service)).toHaveLength(2); // looked up again: still the same two
    } finally {
      watch.stop();
    }

    const refusedHost = warnings.filter((line) => String(line.msg).includes("evil.example is not on the allowed list"));
    expect(refusedHost.map((line) => line.instanceId).sort()).toEqual(["k-evil", "k-evil-2"]); // once each
    const malformed = warnings.filter((line) => line.msg === "skipping a malformed service registry entry");
    expect(JSON.stringify(malformed)).toContain("port 0 is not from 1 to 65535");
    expect(JSON.stringify(malformed)).toContain("port 50053.5 is not from 1 to 65535");
  });
});
