// `make up-cluster` as a reader runs it (docs/operations.md, "Several instances"): scripts/up.ts with SCALE=2,
// NATS_NODES=3 and DATABASE=postgres starts two instances of every service (Go's Loyalty too), a three-node NATS
// cluster and a PostgreSQL server (a schema per service), at free ports here.
// The ready table lists them; every instance is in the registry under its service's name; an order through the
// gateway is approved; the page's block (`make status`, `make kill SVC=kitchen-2`) does what the page says, and the
// next order is approved too; Ctrl-C leaves nothing behind. With DISCOVERY=server, each instance is its own entry in
// Consul, behind Traefik. And the settings up.ts refuses, before it starts anything.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { MESH_SERVICES, type MeshServiceName, natsServers, openExistingDatabase } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

/** Every service, Go's Loyalty included: up-cluster runs two of each. */
const SERVICES = MESH_SERVICES.map((service) => service.name as MeshServiceName);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const THIS_TEST = "test/make-up-cluster.test.ts";
/** The registry's bucket (packages/platform/src/discovery/nats-kv.ts). */
const REGISTRY_BUCKET = "ftgo_registry";
/** How long an order may take to reach APPROVED, on a loaded two-core machine (a saga takes ms when idle). */
const APPROVED_WITHIN_MS = 60_000;
/** `make status` and `make kill` go through npm: a few seconds each on a busy machine. */
const COMMAND_TIMEOUT_MS = 60_000;

describe("make up-cluster", () => {
  let up: MakeUpRun;
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    up = await launchMakeUp({ scale: 2, natsNodes: 3, database: "postgres", readyTimeoutMs: PROGRESS_CAP_MS });
    nc = await connect({ servers: natsServers(up.natsUrl), name: "make-up-cluster-test" });
  }, PROGRESS_CAP_MS + 60_000);

  afterAll(async () => {
    await nc?.close();
    up?.dispose();
  });

  it("is SCALE=2 NATS_NODES=3 DATABASE=postgres make up, with the same setup, and the page's block starts with it", () => {
    const makefile = readFileSync(join(ROOT, "Makefile"), "utf8");
    expect(makefile).toMatch(/^up-cluster: setup ## .+\n\tSCALE=2 NATS_NODES=3 DATABASE=postgres npm start$/m);
    const [claim] = claimsOf(THIS_TEST);
    expect(claim?.page).toBe("docs/operations.md");
    const lines = commandsOf(shBlock("docs/operations.md", "make up-cluster")).map((command) => command.line);
    expect(lines).toEqual(["make up-cluster", "make status", "make kill SVC=kitchen-2"]);
  });

  it("lists every instance and the three NATS nodes in the ready table, and runs them", () => {
    const table = up.output().slice(up.output().indexOf("ftgo-mesh is up"));
    for (const name of SERVICES) {
      expect(table).toMatch(new RegExp(`\\n\\S* +│ +${name} +127\\.0\\.0\\.1:${up.ports[name]}\\b`));
      expect(table).toMatch(new RegExp(`│ +${name}-2 +127\\.0\\.0\\.1:${up.instancePorts[`${name}-2`]}\\b`));
    }
    const urls = natsServers(up.natsUrl);
    expect(urls).toHaveLength(3);
    urls.forEach((url, i) => {
      expect(table).toMatch(new RegExp(`│ +nats n${i + 1} +${url.replaceAll(".", "\\.")} `));
    });
    expect(table).toContain(`NATS_URL=${up.natsUrl}; FTGO_STREAM_REPLICAS=3`);
    expect(up.natsPids()).toHaveLength(3);
    expect(table).toMatch(
      new RegExp(
        `│ +database +PostgreSQL ${up.databaseUrl} \\(started here, data in ${join(up.dataDir, "postgres")}\\)`,
      ),
    );
    expect(up.postgresPids().length).toBeGreaterThan(0);
  });

  it("registers two instances of each service, under its name, at their two ports, on three replicas", async () => {
    const kv = await new Kvm(nc as NatsConnection).open(REGISTRY_BUCKET);
    for (const name of SERVICES) {
      const expected = [up.ports[name], up.instancePorts[`${name}-2`]].sort();
      const ports = await waitFor(
        async () => {
          const found = (await registeredPorts(kv, name)).sort();
          return JSON.stringify(found) === JSON.stringify(expected) ? found : undefined;
        },
        { timeoutMs: 30_000, message: `two instances of ${name} in the registry at ${expected.join(", ")}` },
      );
      expect(ports).toEqual(expected);
    }
    // FTGO_STREAM_REPLICAS=3 reached the services: the bucket they created lives on all three nodes.
    const jsm = await jetstreamManager(nc as NatsConnection);
    expect((await jsm.streams.info(`KV_${REGISTRY_BUCKET}`)).config.num_replicas).toBe(3);
  });

  it("places an order through the gateway that reaches APPROVED, kept in each participant's PostgreSQL schema", async () => {
    const { orderId, state } = await placeOrderThroughGateway(up);
    expect(state).toBe("APPROVED");
    const where = (schema: string) => ({ engine: "postgres", url: up.databaseUrl as string, schema }) as const;
    for (const [schema, table] of [
      ["order", "orders"],
      ["kitchen", "tickets"],
      ["accounting", "authorizations"],
    ] as const) {
      const db = openExistingDatabase(where(schema), { readonly: true });
      try {
        expect(db.prepare(`SELECT count(*) FROM ${table} WHERE order_id = ?`).pluck().get(orderId), schema).toBe(1);
      } finally {
        db.close();
      }
    }
    expect(readdirSync(up.dataDir).filter((file) => file.endsWith(".db"))).toEqual([]); // no SQLite file
  }, 120_000);

  it("runs the page's block: make status shows every instance and node; make kill SVC=kitchen-2; orders still approved", async () => {
    const env = { DATA_DIR: up.dataDir };
    const status = await runShell("make -s status", { timeoutMs: COMMAND_TIMEOUT_MS, env });
    expect(status.code, status.stderr).toBe(0);
    for (const name of SERVICES) {
      expect(status.stdout).toMatch(new RegExp(`^${name} +(go-)?service +\\d+ +ready`, "m"));
      expect(status.stdout).toMatch(new RegExp(`^${name}-2 +(go-)?service +\\d+ +ready`, "m"));
    }
    for (const node of ["n1", "n2", "n3"]) expect(status.stdout).toMatch(new RegExp(`^nats-${node} +nats-server`, "m"));

    const killed = await runShell("make -s kill SVC=kitchen-2", { timeoutMs: COMMAND_TIMEOUT_MS, env });
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toContain("kitchen-2");
    expect(killed.stdout).toContain("killed by SIGKILL");
    const after = await runShell("make -s status", { timeoutMs: COMMAND_TIMEOUT_MS, env });
    expect(after.stdout).toMatch(/^kitchen-2 +service +-? *exited/m);
    expect(after.stdout).toMatch(/^kitchen +service +\d+ +ready/m);

    expect((await placeOrderThroughGateway(up)).state).toBe("APPROVED");
    // Its registry entry goes once its heartbeats stop (REGISTRY_TTL_MS, 10 s): kitchen alone is left.
    const kv = await new Kvm(nc as NatsConnection).open(REGISTRY_BUCKET);
    await waitFor(async () => (await registeredPorts(kv, "kitchen")).join() === String(up.ports.kitchen), {
      timeoutMs: 60_000,
      message: "kitchen-2 to leave the registry",
    });
  }, 240_000);

  it("stops everything on Ctrl-C (SIGINT), the cluster's nodes and PostgreSQL too, keeping their data", async () => {
    const tracked = [...up.processTree(), ...up.natsPids(), ...up.postgresPids()];
    expect(await up.interrupt(60_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), {
      timeoutMs: 30_000,
      message: `still running: ${tracked.filter(alive).join(", ")}`,
    });
    expect(up.output()).toContain("everything stopped");
    expect(readdirSync(join(up.dataDir, "nats-cluster"))).toEqual(expect.arrayContaining(["n1", "n2", "n3"]));
    expect(readdirSync(join(up.dataDir, "postgres"))).toContain("PG_VERSION");
  }, 120_000);
});

describe("make up SCALE=2 DISCOVERY=server", () => {
  let up: MakeUpRun | undefined;
  afterAll(() => up?.dispose());

  it(
    "registers each instance in Consul as its own, and Traefik routes an order through to APPROVED",
    async () => {
      up = await launchMakeUp({ scale: 2, discovery: "server", readyTimeoutMs: PROGRESS_CAP_MS });
      const run = up;
      for (const name of SERVICES) {
        const expected = [run.ports[name], run.instancePorts[`${name}-2`]].sort();
        await waitFor(
          async () => {
            const response = await fetch(`http://${run.consulAddr}/v1/health/service/${name}?passing=true`);
            const entries = (await response.json()) as { Service: { ID: string; Port: number } }[];
            const ports = entries.map((entry) => entry.Service.Port).sort();
            return JSON.stringify(ports) === JSON.stringify(expected);
          },
          { timeoutMs: 60_000, message: `Consul to list ${name} at ${expected.join(" and ")}, both passing` },
        );
      }
      expect((await placeOrderThroughGateway(run)).state).toBe("APPROVED");
      expect(await run.interrupt(60_000)).toBe(0);
    },
    PROGRESS_CAP_MS + 180_000,
  );
});

describe("make up's refusals", () => {
  it.each([
    [{ SCALE: "7" }, 'SCALE="7": give 1 to 4 instances'],
    [{ SCALE: "two" }, 'SCALE="two": give 1 to 4 instances'],
    [{ NATS_NODES: "2" }, 'NATS_NODES="2": give 1'],
    [{ NATS_NODES: "3", NATS_URL: "nats://127.0.0.1:4999" }, "give either, not both"],
    [{ NATS_NODES: "3", SECURE: "1" }, "the cluster has no TLS config yet"],
  ])(
    "refuses %o before starting anything",
    async (settings, message) => {
      const dataDir = mkdtempSync(join(tmpdir(), "ftgo-up-refused-"));
      try {
        const { NATS_URL: _unset, ...inherited } = process.env;
        const up = spawn(process.execPath, ["--import", "tsx", "scripts/up.ts"], {
          cwd: ROOT,
          env: { ...inherited, DATA_DIR: dataDir, TRACING: "off", METRICS: "off", NO_COLOR: "1", ...settings },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        for (const stream of [up.stdout, up.stderr]) stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => up.once("close", resolve));
        expect(code, output).toBe(1);
        expect(output).toContain(message);
        // Nothing was started: no process under it, nothing written to its data dir.
        expect(output).not.toContain("starting");
        expect(readdirSync(dataDir)).toEqual([]);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

/** The ports the registry lists for `service`'s instances (its keys `<service>.<instanceId>`). */
async function registeredPorts(kv: Awaited<ReturnType<Kvm["open"]>>, service: string): Promise<number[]> {
  const ports: number[] = [];
  for await (const key of await kv.keys(`${service}.*`)) {
    const entry = await kv.get(key);
    if (entry?.operation === "PUT") ports.push((entry.json() as { port: number }).port);
  }
  return ports;
}

/** A consumer's token, an order through the gateway's v1 API, and its state once APPROVED. */
async function placeOrderThroughGateway(up: MakeUpRun): Promise<{ orderId: string; state: string }> {
  const gateway = `http://127.0.0.1:${up.gatewayPort}`;
  const json = { "content-type": "application/json" };
  const signIn = await fetch(`${gateway}/api/v1/auth/token`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ consumerId: "c-1001" }),
    signal: AbortSignal.timeout(30_000),
  });
  const { accessToken } = (await signIn.json()) as { accessToken: string };
  const authorization = `Bearer ${accessToken}`;
  const placed = await fetch(`${gateway}/api/v1/orders`, {
    method: "POST",
    headers: { ...json, authorization },
    body: JSON.stringify({ restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 2 }] }),
    signal: AbortSignal.timeout(30_000),
  });
  expect(placed.status, await placed.clone().text()).toBe(202);
  const { orderId } = (await placed.json()) as { orderId: string };
  const state = await waitFor(
    async () => {
      // Bounded: a read that hangs counts as "not yet", and the next one is tried.
      const read = await fetch(`${gateway}/api/v1/orders/${orderId}`, {
        headers: { authorization },
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await read.json()) as { order?: { state?: string } };
      return body.order?.state === "APPROVED" ? body.order.state : undefined;
    },
    { timeoutMs: APPROVED_WITHIN_MS, intervalMs: 300, message: `order ${orderId} to reach APPROVED` },
  );
  return { orderId, state };
}
