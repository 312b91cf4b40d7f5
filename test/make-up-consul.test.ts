// `make up REGISTRY=consul` as a reader runs it: scripts/up.ts starts a Consul agent (-dev, built by `make
// consul`) with the HTTP API at CONSUL_HTTP_ADDR (a free port here) and every service registers itself there
// with a gRPC health check; the ready table gives the UI's URL; an order goes through; Ctrl-C stops the
// services first (each deregisters itself), then the agent: no process and no registration left behind.

import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { GO_SERVICES, SERVICE_NAMES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

/** Every process that registers itself: the TypeScript services and the Go ones. */
const REGISTERED = [...SERVICE_NAMES, ...GO_SERVICES.map((service) => service.name)];

let up: MakeUpRun;

beforeAll(async () => {
  up = await launchMakeUp({ consul: true, readyTimeoutMs: PROGRESS_CAP_MS });
}, PROGRESS_CAP_MS + 30_000);

afterAll(() => up?.dispose());

interface HealthEntry {
  readonly Service: { ID: string; Service: string; Port: number };
  readonly Checks: { Status: string; Type: string; ServiceID: string }[];
}

const agentUrl = () => `http://${up.consulAddr}`;

async function health(service: string): Promise<HealthEntry[]> {
  return (await (await fetch(`${agentUrl()}/v1/health/service/${service}`)).json()) as HealthEntry[];
}

describe("make up REGISTRY=consul", () => {
  it("is what the discovery page's block says: make consul (a no-op once built), then make up REGISTRY=consul", async () => {
    const [claim] = claimsOf("test/make-up-consul.test.ts");
    const block = shBlock(claim?.page ?? "", claim?.marker ?? "");
    expect(commandsOf(block).map((command) => command.line)).toEqual(["make consul", "make up REGISTRY=consul"]);
    // make consul for real: the agent this test's make up runs is there, so it must be a quiet no-op.
    const consul = await runShell("make consul", { timeoutMs: 30_000 });
    expect(consul.code, consul.stderr).toBe(0);
    expect(consul.stdout).not.toContain("building");
    // make up REGISTRY=consul is `npm start` (scripts/up.ts) with REGISTRY=consul in its environment: as launched
    // here. It runs make consul's script itself (a no-op here), then starts the agent.
    expect(up.output()).toContain("making sure the Consul agent is built");
    expect(up.output()).toContain("starting a Consul agent in -dev mode");
  });

  it("starts a Consul agent and gives its UI in the ready table", async () => {
    expect(up.consulPids()).toHaveLength(1);
    expect(up.output()).toContain(`http://${up.consulAddr}/ui/`);
    const ui = await fetch(`${agentUrl()}/ui/`);
    expect(ui.status).toBe(200);
  });

  it("lists every service in the agent's catalog with a passing gRPC health check", async () => {
    const catalog = (await (await fetch(`${agentUrl()}/v1/catalog/services`)).json()) as Record<string, string[]>;
    expect(Object.keys(catalog).sort()).toEqual(["consul", ...REGISTERED].sort());
    for (const name of REGISTERED) {
      // A fresh registration passes after its first check: wait for it, on a busy machine.
      await waitFor(
        async () => {
          const entries = await health(name);
          return (
            entries.length === 1 &&
            entries[0]?.Checks.some(
              (c) => c.ServiceID === entries[0]?.Service.ID && c.Type === "grpc" && c.Status === "passing",
            )
          );
        },
        { timeoutMs: 30_000, message: `${name}: one instance with a passing gRPC check` },
      );
    }
  });

  it("takes an order through the saga to APPROVED", async () => {
    const at = (name: (typeof SERVICE_NAMES)[number]) => ({ address: `127.0.0.1:${up.ports[name]}` });
    const clients = meshClients({
      order: at("order"),
      consumer: at("consumer"),
      kitchen: at("kitchen"),
      accounting: at("accounting"),
      delivery: at("delivery"),
    });
    try {
      const placed = await placeOrderOverGrpc(clients, "c-1001");
      const settled = await orderReaches(clients, placed.orderId, new Set([OrderState.APPROVED]), 60_000);
      expect(settled.state).toBe(OrderState.APPROVED);
    } finally {
      clients.close();
    }
  });

  it("on Ctrl-C, the services deregister before the agent stops: no process and no registration left", async () => {
    const tracked = [...up.processTree(), ...up.natsPids(), ...up.consulPids()];
    expect(await up.interrupt(60_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), { timeoutMs: 15_000, message: "every process gone" });
    expect(up.consulPids()).toEqual([]);
    const output = up.output();
    for (const name of REGISTERED) {
      expect(output, `${name} deregistered`).toMatch(new RegExp(`${name}\\b.*deregistered from Consul`));
    }
    // The agent is gone, and with it (a -dev agent keeps nothing) every registration.
    expect(
      await fetch(`${agentUrl()}/v1/catalog/services`).then(
        () => "answered",
        () => "gone",
      ),
    ).toBe("gone");
  });
});
