// Self-registration and health-checked lookup with the embedded NATS KV registry, as `make up` runs it:
// every service registers on start, a stopped (SIGTERM) one leaves the registry at once, and one that
// dies without a word (SIGKILL) leaves it within the registry's TTL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServiceInstance, startService } from "@ftgo/harness/service-instance.js";
import { createRegistry, type Registry, silentLogger } from "@ftgo/platform";
import { SERVICE_NAMES } from "@ftgo/platform/roster";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const TTL_MS = 2_000;

let nats: NatsServerHandle;
let nc: NatsConnection;
let registry: Registry;
let dataDir: string;
const processes: ServiceInstance[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  dataDir = mkdtempSync(join(tmpdir(), "ftgo-discovery-"));
  const env = { REGISTRY_TTL_MS: String(TTL_MS) };
  for (const name of SERVICE_NAMES) {
    processes.push(await startService({ name, dataDir, natsUrl: nats.url, env }));
  }
  // A second kitchen, so that one can go while the service stays discoverable.
  processes.push(await startService({ name: "kitchen", instance: 2, dataDir, natsUrl: nats.url, env }));
  registry = await createRegistry(
    { registry: "nats-kv", ttlMs: TTL_MS, heartbeatMs: TTL_MS / 3 },
    { nc, log: silentLogger() },
  );
}, 600_000); // six starts one after another, each up to the harness's readiness cap on a busy machine

afterAll(async () => {
  await registry?.close();
  await Promise.allSettled(processes.map((p) => p.stop()));
  await nc?.close();
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const ports = async (service: string) => (await registry.lookup(service)).map((i) => `${i.address}:${i.port}`).sort();
const addressesOf = (label: string) =>
  processes
    .filter((p) => p.label.split("#")[0] === label)
    .map((p) => p.address)
    .sort();

describe("self-registration in the NATS KV registry", () => {
  it("finds every service, at the address it serves on", async () => {
    for (const name of SERVICE_NAMES) expect(await ports(name)).toEqual(addressesOf(name));
  });

  it("removes an instance the moment it is stopped with SIGTERM", async () => {
    const second = processes.find((p) => p.label === "kitchen#2") as ServiceInstance;
    await second.stop();
    // Deregistration happens during shutdown, before the process exits: no waiting for a TTL.
    expect(await ports("kitchen")).not.toContain(second.address);
    expect(await ports("kitchen")).toHaveLength(1);
    await second.restart();
    await vi.waitFor(async () => expect(await ports("kitchen")).toContain(second.address), { timeout: 5_000 });
  });

  it("drops an instance that stops heartbeating (SIGKILL) within its TTL", async () => {
    const second = processes.find((p) => p.label === "kitchen#2") as ServiceInstance;
    await second.kill("SIGKILL");
    expect(await ports("kitchen")).toContain(second.address); // nobody said goodbye: only the TTL can tell
    // Still registered TTL_MS * 2 after SIGKILL fails here, naming the addresses still listed.
    await vi.waitFor(async () => expect(await ports("kitchen")).not.toContain(second.address), {
      timeout: TTL_MS * 2,
      interval: 100,
    });
    expect(await ports("kitchen")).toHaveLength(1);
  });
});
