// The seed's second solution to discovery on real parts: a Consul agent (built by `make consul`) as the
// registry, Traefik (built by `make traefik`) as the router, two Kitchen processes run with DISCOVERY=server.
// The harness plays the registrar (third-party registration): it registers each Kitchen once started, with a
// gRPC health check and the router's tags; the Kitchens register nothing themselves. A caller dials Traefik's
// one address, and Traefik picks a passing instance: a Kitchen that stops answering its health check leaves
// the routing table without the registrar or the caller doing anything.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import {
  type RegisteredService,
  type ServerSideDiscovery,
  startServerSideDiscovery,
} from "@ftgo/harness/server-side-discovery.js";
import { startService } from "@ftgo/harness/service-instance.js";
import { untilRouted } from "@ftgo/harness/traefik.js";
import {
  createGrpcClient,
  createGrpcTransport,
  createMeshClient,
  createRegistry,
  DEFAULT_CALL_POLICY,
  type GrpcTransport,
  silentLogger,
} from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Generous: the check runs every 500 ms, but two cores are shared with other test runs. */
const ROUTING_DEADLINE_MS = 30_000;
const GET_MENU = "/ftgo.kitchen.v1.KitchenService/GetMenu";

let ssd: ServerSideDiscovery;
let nats: NatsServerHandle;
let dataDir: string;
let transport: GrpcTransport;
const kitchens: RegisteredService[] = [];
const adminTransports: GrpcTransport[] = [];

beforeAll(async () => {
  ssd = await startServerSideDiscovery();
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), "ftgo-server-side-"));
  // REGISTRY=consul as well: under DISCOVERY=server a service ignores it and still registers nothing itself.
  const env = { ...ssd.env, REGISTRY: "consul", CONSUL_HTTP_ADDR: ssd.consul.httpAddr };
  for (const instance of [1, 2]) {
    kitchens.push(
      await ssd.register(await startService({ name: "kitchen", instance, dataDir, natsUrl: nats.url, env })),
    );
  }
  transport = createGrpcTransport({ address: ssd.router.grpcAddr });
  for (const kitchen of kitchens) await admin(kitchen).setFault({ fault: { method: GET_MENU, latencyMs: 1 } });
}, 600_000);

afterAll(async () => {
  transport?.close();
  for (const own of adminTransports) own.close();
  await Promise.allSettled(kitchens.map((kitchen) => kitchen.stop()));
  await ssd?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface CatalogEntry {
  readonly Service: { ID: string; Port: number; Tags: string[] };
  readonly Checks: { Type: string; Status: string }[];
}

/** Consul's view of kitchen: every entry, passing or not. */
async function catalog(): Promise<CatalogEntry[]> {
  const response = await fetch(`${ssd.consul.url}/v1/health/service/kitchen`);
  return (await response.json()) as CatalogEntry[];
}

const menus = () => createGrpcClient(KitchenService, transport);
/** Each Kitchen's own admin API, at its own address (not through the router). */
const admin = (kitchen: RegisteredService) => {
  const own = createGrpcTransport({ address: kitchen.address });
  adminTransports.push(own);
  return createGrpcClient(AdminService, own);
};
/** The GetMenu calls a Kitchen has served: a 1 ms latency fault set in beforeAll is applied to, and counted on, each. */
async function served(kitchen: RegisteredService): Promise<number> {
  const { faults } = await admin(kitchen).listFaults({});
  return Number(faults.find((fault) => fault.method === GET_MENU)?.appliedCount ?? 0n);
}
const addresses = (list: readonly RegisteredService[]) => list.map((kitchen) => kitchen.address).sort();
const routedTo = (list: readonly RegisteredService[]) =>
  untilRouted(ssd.router.apiUrl, "kitchen", addresses(list), ROUTING_DEADLINE_MS);

describe("third-party registration and server-side discovery", () => {
  it("registers each Kitchen once, by the registrar, with a gRPC check and the router's tags", async () => {
    await routedTo(kitchens);
    const entries = await catalog();

    expect(entries.map((entry) => entry.Service.Port).sort()).toEqual(kitchens.map((k) => k.port).sort());
    for (const entry of entries) {
      expect(entry.Service.Tags).toContain("registered-by-registrar");
      expect(entry.Service.Tags).toContain("traefik.http.services.kitchen.loadbalancer.server.scheme=h2c");
      expect(entry.Checks.filter((check) => check.Type === "grpc").map((check) => check.Status)).toEqual(["passing"]);
    }
  });

  it("routes the calls sent to Traefik's one address across both Kitchens", async () => {
    const before = await Promise.all(kitchens.map(served));
    for (let i = 0; i < 20; i++) await menus().getMenu({ restaurantId: "r-1" });
    const counts = (await Promise.all(kitchens.map(served))).map((count, i) => count - (before[i] ?? 0));

    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(5);
  });

  it("drops a Kitchen that stops answering its health check, with nobody deregistering it, and takes it back", async () => {
    const [survivor, frozen] = kitchens as [RegisteredService, RegisteredService];
    await frozen.kill("SIGSTOP"); // hung: still registered, its check times out
    await routedTo([survivor]);
    expect((await catalog()).map((entry) => entry.Service.Port)).toContain(frozen.port);

    const before = await served(survivor);
    for (let i = 0; i < 10; i++) await menus().getMenu({ restaurantId: "r-1" });
    expect((await served(survivor)) - before).toBe(10);

    await frozen.kill("SIGCONT");
    await routedTo(kitchens);
  });

  it("routes a method every service serves (the health check) by the target the mesh client names", async () => {
    const registry = await createRegistry(
      { registry: "router", routerAddr: ssd.router.grpcAddr, ttlMs: 10_000, heartbeatMs: 3_333 },
      { log: silentLogger() },
    );
    const health = createMeshClient(Health, {
      target: "kitchen",
      registry,
      policy: DEFAULT_CALL_POLICY,
      log: silentLogger(),
    });
    try {
      const { status } = await health.check({ service: "" });
      expect(HealthCheckResponse_ServingStatus[status]).toBe("SERVING");
      // Without the target's name, the path alone says nothing: no service's route, the router's 503.
      const anonymous = await createGrpcClient(Health, transport)
        .check({ service: "" })
        .catch((e: unknown) => e);
      expect(anonymous).toMatchObject({ code: Code.Unavailable });
    } finally {
      health.close();
      await registry.close();
    }
  });

  it("answers UNAVAILABLE, not UNIMPLEMENTED, when no Kitchen passes", async () => {
    await Promise.all(kitchens.map((kitchen) => kitchen.kill("SIGKILL")));
    await routedTo([]);

    const err = await menus()
      .getMenu({ restaurantId: "r-1" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Unavailable });
  });
});
