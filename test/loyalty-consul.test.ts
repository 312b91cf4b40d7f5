// The Go Loyalty service under REGISTRY=consul: it registers with a real Consul agent exactly as the
// TypeScript services do, so that a TypeScript mesh client finds it through the TypeScript Consul
// registry (packages/platform/src/discovery/consul.ts) and calls it; on SIGTERM it deregisters, so the
// agent lists nothing at all (not a critical instance waiting to be reaped).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { type ConsulAgent, startConsulAgent } from "@ftgo/harness/consul-agent.js";
import { loyaltyMeshClient, startLoyalty } from "@ftgo/harness/loyalty-process.js";
import type { ServiceInstance } from "@ftgo/harness/service-instance.js";
import { createRegistry, type MeshClient, type Registry, silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/** Every entry the agent holds for `service`, passing or not. */
async function agentEntries(addr: string, service: string): Promise<unknown[]> {
  const res = await fetch(`http://${addr}/v1/health/service/${service}`);
  if (!res.ok) throw new Error(`Consul's health API answered ${res.status}`);
  return (await res.json()) as unknown[];
}

describe("the Go loyalty service in Consul", () => {
  let agent: ConsulAgent | undefined;
  let dataDir: string;
  let loyalty: ServiceInstance | undefined;
  let registry: Registry | undefined;
  let client: MeshClient<typeof LoyaltyService> | undefined;

  beforeAll(async () => {
    agent = await startConsulAgent();
    dataDir = await mkdtemp(join(tmpdir(), "ftgo-loyalty-consul-"));
    loyalty = await startLoyalty({
      dataDir,
      natsUrl: inject("natsUrl"),
      env: { REGISTRY: "consul", CONSUL_HTTP_ADDR: agent.httpAddr, LOG_LEVEL: "info" },
    });
    registry = await createRegistry(
      { registry: "consul", ttlMs: 10_000, heartbeatMs: 3_333, consulAddr: agent.httpAddr },
      { log: silentLogger() },
    );
    client = loyaltyMeshClient(registry);
  }, 300_000);

  afterAll(async () => {
    client?.close();
    await Promise.all([registry?.close(), loyalty?.stop()]);
    await agent?.stop(); // last: Loyalty deregisters from it on the way out
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("is found by a TypeScript mesh client through the Consul registry once its gRPC check passes", async () => {
    const { port, address } = loyalty as ServiceInstance;
    const instances = await waitFor(
      async () => {
        const found = await (registry as Registry).lookup("loyalty");
        return found.length > 0 && found;
      },
      { timeoutMs: 30_000, message: "loyalty passing in Consul" },
    );
    expect(instances).toEqual([
      expect.objectContaining({ service: "loyalty", address: "127.0.0.1", port, version: "0.1.0", tags: ["grpc"] }),
    ]);
    expect(instances[0]?.id).toMatch(new RegExp(`^loyalty-${port}-[0-9a-f]{6}$`));

    const mesh = client as MeshClient<typeof LoyaltyService>;
    const notFound = await mesh.getAccount({ consumerId: "c-nobody" }).catch((err: unknown) => err);
    expect(ConnectError.from(notFound).code).toBe(Code.NotFound);
    expect(mesh.instances().map((instance) => instance.address)).toEqual([address]);
  });

  it("deregisters on SIGTERM: the agent keeps no entry, passing or critical", async () => {
    const addr = (agent as ConsulAgent).httpAddr;
    expect(await agentEntries(addr, "loyalty")).toHaveLength(1);

    await (loyalty as ServiceInstance).stop(); // SIGTERM, then waits for the exit

    expect(await agentEntries(addr, "loyalty")).toEqual([]);
    expect(await (registry as Registry).lookup("loyalty")).toEqual([]);
  }, 60_000);
});
