// `make up DISCOVERY=server` as a reader runs it: scripts/up.ts starts Traefik (the router) on the Consul agent at
// CONSUL_HTTP_ADDR, runs every service with DISCOVERY=server (they register nothing, and call through the router)
// and, as the supervisor, registers each routed process in Consul once it is ready and deregisters it when it
// goes (third-party registration). The agent here is one the test starts, which up.ts uses as it would any agent
// already running: so after Ctrl-C the test can still ask it whether any registration was left behind. (up.ts
// starting and stopping its own agent is test/make-up-consul.test.ts's; the code is the same, ensureConsul.)

import { readFileSync } from "node:fs";
import { type ConsulAgent, startConsulAgent } from "@ftgo/harness/consul-agent.js";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { routedServers, untilRouted } from "@ftgo/harness/traefik.js";
import { GO_SERVICES, SERVICE_NAMES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

/** The processes the router calls, which up.ts registers: the TypeScript services and the Go one. */
const ROUTED = [...SERVICE_NAMES, ...GO_SERVICES.map((service) => service.name)];
/** A change in Consul reaches Traefik's routes in well under a second; this is for a loaded two-core machine. */
const ROUTES_FOLLOW_MS = 30_000;
const COMMAND_TIMEOUT_MS = 60_000;

let consul: ConsulAgent;
let up: MakeUpRun;

interface HealthEntry {
  readonly Service: { ID: string; Service: string; Address: string; Port: number; Tags: string[] };
  readonly Checks: { Status: string; Type: string; ServiceID: string }[];
}

async function health(service: string): Promise<HealthEntry[]> {
  return (await (await fetch(`${consul.url}/v1/health/service/${service}`)).json()) as HealthEntry[];
}

async function catalog(): Promise<string[]> {
  const services = (await (await fetch(`${consul.url}/v1/catalog/services`)).json()) as Record<string, string[]>;
  return Object.keys(services).sort();
}

/** The `host:port` of every server Traefik's API says it routes `service`'s calls to now. */
const routedTo = (service: string) => routedServers(up.routerApiUrl as string, service);

/** One passing instance of `service` in Consul, registered by the registrar, at its port; Traefik routes to it. */
async function registeredAndRouted(service: string): Promise<void> {
  const at = `127.0.0.1:${up.ports[service as keyof typeof up.ports]}`;
  await waitFor(
    async () => {
      const [entry, ...more] = await health(service);
      return (
        entry !== undefined &&
        more.length === 0 &&
        `${entry.Service.Address}:${entry.Service.Port}` === at &&
        entry.Service.Tags.includes("registered-by-registrar") &&
        entry.Checks.some((c) => c.ServiceID === entry.Service.ID && c.Type === "grpc" && c.Status === "passing")
      );
    },
    { timeoutMs: ROUTES_FOLLOW_MS, message: `${service}: one instance at ${at}, registered by up.ts, check passing` },
  );
  await untilRouted(up.routerApiUrl as string, service, [at], ROUTES_FOLLOW_MS);
}

/** The line of the ready table's "Try:" list that calls `method` (GetMenu), as printed: grpcurl and its arguments. */
function tryLine(method: string): string {
  const line = up
    .output()
    .split("\n")
    .find((text) => text.includes("grpcurl") && text.trimEnd().endsWith(`Service/${method}`));
  if (!line) throw new Error(`no Try: line for ${method} in make up's output`);
  return line.replace(/^.*?(\S*grpcurl )/, "$1");
}

function run(command: string) {
  return runShell(command, { timeoutMs: COMMAND_TIMEOUT_MS, env: { DATA_DIR: up.dataDir } });
}

/** The environment a process of `make up` runs with, from /proc. */
function environmentOf(pid: number): Map<string, string> {
  const pairs = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return new Map(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
}

describe("make up DISCOVERY=<anything else>", () => {
  it(
    "refuses to start, naming the choices",
    async () => {
      const refused = await runShell("DISCOVERY=mesh node --import tsx scripts/up.ts", {
        timeoutMs: COMMAND_TIMEOUT_MS,
      });
      expect(refused.code).toBe(1);
      expect(refused.stdout + refused.stderr).toContain('DISCOVERY="mesh": the choices are client (the default');
      expect(refused.stdout + refused.stderr).not.toContain("starting");
    },
    COMMAND_TIMEOUT_MS,
  );
});

describe("make up DISCOVERY=server", () => {
  beforeAll(async () => {
    consul = await startConsulAgent();
    up = await launchMakeUp({ discovery: "server", consulAddr: consul.httpAddr, readyTimeoutMs: PROGRESS_CAP_MS });
  }, PROGRESS_CAP_MS + 90_000);

  afterAll(async () => {
    up?.dispose();
    await consul?.stop();
  });

  it("starts Traefik on the Consul agent, lists it in make status and says so in the ready table: router, discovery, Try lines", async () => {
    const output = up.output();
    expect(output).toContain(`using the Consul agent already running at ${consul.httpAddr}`);
    expect(output).toContain("making sure Traefik is built (scripts/traefik.sh, as `make traefik`)");
    expect(up.traefikPids()).toHaveLength(1);
    expect(up.consulPids()).toEqual([]); // it used the agent it was given
    const status = await run("npm run -s mesh -- status");
    expect(status.stdout, status.stderr).toMatch(
      new RegExp(`traefik\\s+traefik\\s+${up.traefikPids()[0]}\\s+ready\\s+0\\s+${up.routerAddr}`),
    );
    expect(output).toMatch(
      new RegExp(
        `router\\s+${up.routerAddr} \\(Traefik v3\\.6\\.12: every gRPC call goes through it; API ${up.routerApiUrl}/api/http/services\\)`,
      ),
    );
    expect(output).toMatch(/discovery\s+server \(registered by up\.ts, routed by Traefik; DISCOVERY=client\|server\)/);
    for (const method of ["GetMenu", "CreateOrder", "GetAccount"]) {
      expect(tryLine(method)).toContain(` ${up.routerAddr} `);
    }
  });

  it("gives every service and the gateway the router's address, and the couriers none", () => {
    const children = up.children();
    for (const name of [...ROUTED, "gateway"]) {
      const child = children.find(
        // A TypeScript process runs its bundle (service-build.ts), a Go one its binary.
        (c) => c.command.endsWith(`ftgo-services/${name}/main.mjs`) || c.command.endsWith(`go/bin/${name}`),
      );
      expect(child, `${name} runs under make up`).toBeDefined();
      const processEnv = environmentOf(child?.pid as number);
      expect(processEnv.get("DISCOVERY"), name).toBe("server");
      expect(processEnv.get("DISCOVERY_ROUTER"), name).toBe(up.routerAddr);
    }
  });

  it(
    "registers every routed process in Consul, with a passing gRPC check and Traefik's tags, and Traefik routes to each",
    async () => {
      for (const name of ROUTED) await registeredAndRouted(name);
      // Not the gateway (nobody calls it over gRPC), not the couriers (NATS): the registrar registers what the router calls.
      expect(await catalog()).toEqual(["consul", ...ROUTED].sort());
      for (const name of ROUTED)
        expect(up.output()).toMatch(new RegExp(`registered ${name} in Consul as ${name}-127-0-0-1-`));
    },
    ROUTED.length * 2 * ROUTES_FOLLOW_MS,
  );

  it("takes an order placed through the gateway to APPROVED, the gateway and Order calling through the router", async () => {
    const gateway = `http://127.0.0.1:${up.gatewayPort}`;
    const auth = await fetch(`${gateway}/api/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ consumerId: "c-1001" }),
    });
    const { accessToken } = (await auth.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}`, "content-type": "application/json" };
    const placed = await fetch(`${gateway}/api/v2/orders`, {
      method: "POST",
      headers: { ...headers, "idempotency-key": `"server-side-${Date.now()}"` },
      body: JSON.stringify({
        restaurantId: "r-1",
        lineItems: [{ menuItemId: "m-1", quantity: 2 }],
        delivery: { address: { street1: "1 Main St", city: "Oakland", postalCode: "94611" } },
      }),
    });
    const created = (await placed.json()) as { orderId?: string };
    expect(placed.status, JSON.stringify(created)).toBeLessThan(300);
    // The composed view: Order (its state) and Loyalty (the points), both through the router.
    const details = await waitFor(
      async () => {
        const read = await fetch(`${gateway}/api/v2/orders/${created.orderId}`, { headers });
        const body = (await read.json()) as { order?: { state?: string }; points?: { state?: string } };
        return body.order?.state?.includes("APPROVED") && body.points?.state === "EARNED" ? body : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 300, message: `order ${created.orderId} APPROVED with its points EARNED` },
    );
    expect(details).toMatchObject({ unavailable: [] });
  }, 120_000);

  it(
    "answers the ready table's grpcurl lines through the router: Kitchen's GetMenu, Loyalty's GetAccount",
    async () => {
      const menu = await run(tryLine("GetMenu"));
      expect(menu.code, menu.stderr).toBe(0);
      expect(menu.stdout).toContain('"menuItems"');
      const account = await run(tryLine("GetAccount"));
      expect(account.code, account.stderr).toBe(0);
      expect(account.stdout).toContain('"consumerId": "c-1001"');
    },
    2 * COMMAND_TIMEOUT_MS,
  );

  it(
    "is what the discovery page's blocks say: make traefik, make up DISCOVERY=server, grpcurl through the router",
    async () => {
      const [start, call] = claimsOf("test/make-up-server-side.test.ts").map((claim) =>
        shBlock(claim.page, claim.marker),
      );
      if (!start || !call) throw new Error("make-up-server-side.test.ts claims two blocks of the discovery page");
      expect(commandsOf(start).map((command) => command.line)).toEqual(["make traefik", "make up DISCOVERY=server"]);
      // make traefik for real: the Traefik this test's make up runs is built, so it must be a quiet no-op.
      const traefik = await runShell("make traefik", { timeoutMs: COMMAND_TIMEOUT_MS });
      expect(traefik.code, traefik.stderr).toBe(0);
      expect(traefik.stdout).not.toContain("building");
      // make up DISCOVERY=server is `npm start` with DISCOVERY=server: as launched here, which runs make traefik's script.
      expect(up.output()).toContain("making sure Traefik is built");
      // The page's call, at this run's router instead of 127.0.0.1:8090.
      const menu = await runShell(call.text.replaceAll("127.0.0.1:8090", up.routerAddr ?? "(no router)"), {
        timeoutMs: COMMAND_TIMEOUT_MS,
      });
      expect(menu.code, menu.stderr).toBe(0);
      expect(menu.stdout).toContain('"menuItems"');
    },
    3 * COMMAND_TIMEOUT_MS,
  );

  it(
    "takes a killed kitchen out of Consul and out of Traefik's routes at once, and back in on make start",
    async () => {
      const killed = await run("npm run -s mesh -- kill kitchen");
      expect(killed.code, killed.stderr).toBe(0);
      // Deregistered by the supervisor when it saw the exit, not after the check has failed for a minute.
      await waitFor(() => up.output().includes("deregistered kitchen from Consul (it exited)"), {
        timeoutMs: 5_000,
        message: "make up logging kitchen's deregistration",
      });
      expect(await health("kitchen")).toEqual([]);
      await waitFor(async () => (await routedTo("kitchen")).length === 0, {
        timeoutMs: ROUTES_FOLLOW_MS,
        message: "Traefik routing kitchen nowhere",
      });
      const down = await run(tryLine("GetMenu"));
      expect(down.stderr).toContain("Unavailable");

      const started = await run("npm run -s mesh -- start kitchen");
      expect(started.code, started.stderr).toBe(0);
      await registeredAndRouted("kitchen");
      const menu = await run(tryLine("GetMenu"));
      expect(menu.code, menu.stderr).toBe(0);
    },
    6 * COMMAND_TIMEOUT_MS,
  );

  it("on Ctrl-C, deregisters every service before stopping it, then stops Traefik: no process and no registration left", async () => {
    const tracked = [...up.processTree(), ...up.natsPids(), ...up.traefikPids()];
    expect(await up.interrupt(60_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), { timeoutMs: 15_000, message: "every process gone" });
    expect(up.traefikPids()).toEqual([]);
    expect(up.consulPids()).toEqual([]);
    const output = up.output();
    for (const name of ROUTED)
      expect(output).toContain(`deregistered ${name} from Consul (before it is asked to stop)`);
    // Nothing had to be killed: the gateway's stop does not wait on the readiness probe's silent connection.
    expect(output).not.toContain("did not stop within");
    // The agent outlives make up here, so what it lists now is what make up left: nothing but Consul itself.
    expect(await catalog()).toEqual(["consul"]);
  }, 120_000);
});
