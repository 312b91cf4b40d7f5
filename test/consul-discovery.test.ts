// Self-registration and client-side discovery on a real Consul agent (built by `make consul`), with the
// services as real processes: each registers with a gRPC health check against its own grpc.health.v1, Order
// discovers Kitchen through Consul's health API (passing instances only, blocking queries). A Kitchen killed
// without a word turns critical at the agent and Order's calls go to the other; a Kitchen started later gets
// Order's calls without restarting Order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { type ConsulAgent, startConsulAgent } from "@ftgo/harness/consul-agent.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { type ServiceInstance, startService } from "@ftgo/harness/service-instance.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer, waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** How often the agent probes each instance here. */
const CHECK = { CONSUL_CHECK_INTERVAL: "1s", CONSUL_CHECK_TIMEOUT: "500ms" };
/** Generous: a check interval is 1 s, but two cores are shared with other test runs. */
const HEALTH_DEADLINE_MS = 30_000;
const GET_MENU_METHOD = "/ftgo.kitchen.v1.KitchenService/GetMenu";
const GET_MENU = `"method":"${GET_MENU_METHOD}"`;
const FALLBACK = "pricing from the last known menu";

let agent: ConsulAgent;
let nats: NatsServerHandle;
let dataDir: string;
const processes: ServiceInstance[] = [];

/** The kitchens log each call they serve (debug), so that a test can see which one Order called. */
const startKitchen = (instance: number) =>
  startService({ name: "kitchen", instance, dataDir, natsUrl: nats.url, env: { ...env(), LOG_LEVEL: "debug" } });
const env = () => ({ REGISTRY: "consul", CONSUL_HTTP_ADDR: agent.httpAddr, ...CHECK });

beforeAll(async () => {
  agent = await startConsulAgent();
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), "ftgo-consul-discovery-"));
  processes.push(await startKitchen(1)); // the first creates the schema
  processes.push(await startKitchen(2));
  processes.push(await startService({ name: "order", dataDir, natsUrl: nats.url, env: env() }));
}, 600_000);

afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.stop()));
  await nats?.stop();
  await agent?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface HealthEntry {
  readonly Service: { ID: string; Port: number };
  readonly Checks: { Status: string; Type: string; ServiceID: string }[];
}

/** The agent's view of `service`: every instance with its check's status, by port (`passing`, `critical`). */
async function healthByPort(service: string): Promise<Record<number, string>> {
  const response = await fetch(`${agent.url}/v1/health/service/${service}`);
  const entries = (await response.json()) as HealthEntry[];
  return Object.fromEntries(
    entries.map((entry) => {
      const own = entry.Checks.filter((check) => check.ServiceID === entry.Service.ID);
      return [entry.Service.Port, own.every((check) => check.Status === "passing") ? "passing" : "critical"];
    }),
  );
}

const byLabel = (label: string) => processes.find((p) => p.label === label) as ServiceInstance;
const getMenuCalls = (kitchen: ServiceInstance) => kitchen.output().split(GET_MENU).length - 1;

describe("discovery through a real Consul agent", () => {
  it("registers every instance with a passing gRPC health check", async () => {
    const [kitchen1, kitchen2, order] = [byLabel("kitchen"), byLabel("kitchen#2"), byLabel("order")];
    await waitFor(
      async () => {
        const [kitchens, orders] = [await healthByPort("kitchen"), await healthByPort("order")];
        return (
          kitchens[kitchen1.port] === "passing" &&
          kitchens[kitchen2.port] === "passing" &&
          orders[order.port] === "passing"
        );
      },
      { timeoutMs: HEALTH_DEADLINE_MS, message: "both kitchens and order passing at the agent" },
    );
    const entries = (await (await fetch(`${agent.url}/v1/health/service/kitchen`)).json()) as HealthEntry[];
    expect(
      entries.flatMap((entry) => entry.Checks.filter((c) => c.ServiceID === entry.Service.ID).map((c) => c.Type)),
    ).toEqual(["grpc", "grpc"]);
  });

  it("marks a SIGKILLed Kitchen critical, and Order's calls go to the other", async () => {
    const [kitchen1, kitchen2, order] = [byLabel("kitchen"), byLabel("kitchen#2"), byLabel("order")];
    const clients = meshClients({ order, consumer: order, kitchen: kitchen1, accounting: order, delivery: order });
    const adminTransport = createGrpcTransport({ address: kitchen1.address });
    try {
      await kitchen2.kill("SIGKILL");

      // Nobody deregistered it: only the agent's gRPC check can tell that it is gone.
      await waitFor(async () => (await healthByPort("kitchen"))[kitchen2.port] === "critical", {
        timeoutMs: HEALTH_DEADLINE_MS,
        message: "the agent to mark the killed kitchen critical",
      });
      expect((await healthByPort("kitchen"))[kitchen1.port]).toBe("passing");

      // kitchen#1 counts the GetMenu calls it serves: a 1 ms latency fault is applied to, and counted on, each.
      const admin = createGrpcClient(AdminService, adminTransport);
      await admin.setFault({ fault: { method: GET_MENU_METHOD, latencyMs: 1 } });
      for (let i = 0; i < 5; i++) {
        const placed = await placeOrderOverGrpc(clients, "c-1001");
        expect(placed.pricedFromLastKnownMenu).toBe(false);
      }
      // Each order was priced by a live kitchen (kitchen#1), never from Order's fallback menu.
      const { faults } = await admin.listFaults({});
      await admin.clearFaults({});
      expect(Number(faults.find((f) => f.method === GET_MENU_METHOD)?.appliedCount ?? 0n)).toBe(5);
      expect(order.output()).not.toContain(FALLBACK);
    } finally {
      adminTransport.close();
      clients.close();
    }
  });

  it("sends Order's calls to a Kitchen started later, without restarting Order", async () => {
    const order = byLabel("order");
    const orderPid = order.pid;
    const kitchen3 = await startKitchen(3);
    processes.push(kitchen3);
    await waitFor(async () => (await healthByPort("kitchen"))[kitchen3.port] === "passing", {
      timeoutMs: HEALTH_DEADLINE_MS,
      message: "the new kitchen passing at the agent",
    });
    const clients = meshClients({ order, consumer: order, kitchen: kitchen3, accounting: order, delivery: order });
    try {
      // Order picks among the passing kitchens: some of a few orders reach the new one.
      await waitFor(
        async () => {
          await placeOrderOverGrpc(clients, "c-1001");
          return getMenuCalls(kitchen3) > 0;
        },
        { timeoutMs: HEALTH_DEADLINE_MS, intervalMs: 10, message: "an order priced by the new kitchen" },
      );
    } finally {
      clients.close();
    }
    expect(order.pid).toBe(orderPid);
    expect(order.output()).not.toContain(FALLBACK);
  });
});
