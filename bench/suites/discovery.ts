import { type CallPolicy, createRegistry, type Registry, silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { runLoad } from "../lib/load.js";
import { median, medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, ContenderResult, Measurement, Suite } from "../lib/suite.js";
import { checkSpread } from "./discovery/spread.js";
import { type DiscoveryStack, startDiscoveryStack } from "./discovery/stack.js";
import { formatRouterUsage, type RouterUsage, routerUsageOver } from "./discovery/usage.js";
import { connectMesh, hopPolicy, type MeshMenuClient } from "./mesh/clients.js";
import { type SerialResult, timeSerially } from "./mesh/serial.js";
import { checkMenu } from "./unary/menu.js";

/*
 * The cost of server-side discovery's extra hop. The same mesh client (createMeshClient, the default call
 * policy) calls GetMenu on the same two Kitchen servers two ways: finding both in Consul and balancing
 * among them itself (client-side discovery, the baseline), or sending every call to Traefik, which finds
 * them in the same Consul entries and picks one (server-side discovery). The servers, Consul and Traefik
 * start once for the suite; a first round, not counted, warms them all; every round measures both arms in
 * turn, each with a fresh client, checked and warmed up; Traefik's CPU time and memory are read from /proc
 * around every window.
 */

/** Entries are Consul's (health-checked) here; the TTL and heartbeat only fill the config's shape. */
const REGISTRY_TTL_MS = 10_000;

interface DiscoveryArm {
  readonly name: "client" | "server";
  readonly label: string;
  /** A client, connected and ready: the instances it should see listed, one call answered. */
  connect(): Promise<MeshMenuClient>;
}

export const discovery: Suite = {
  name: "discovery",
  async run(options) {
    const stack = await startDiscoveryStack(options.progress);
    const registries: Registry[] = [];
    try {
      const policy = hopPolicy(options.concurrency);
      const arms = discoveryArms(stack, policy, registries);
      const rounds = new Map<string, Measurement[]>(arms.map(({ name }) => [name, []]));
      const usage = new Map<string, RouterUsage[]>(arms.map(({ name }) => [name, []]));
      const spread = new Map<string, number[]>();
      for (const arm of arms) {
        const client = await arm.connect();
        try {
          spread.set(arm.name, await checkSpread(arm.label, client, stack.servers));
        } finally {
          client.close();
        }
        options.progress(`discovery: ${arm.name} spreads its calls: ${spread.get(arm.name)?.join(" + ")}`);
      }
      // Round 0 is thrown away: in every trial run the first window of the suite was its slowest (cold
      // servers, cold Traefik), and it always fell on the client-side arm.
      for (let round = 0; round <= options.rounds; round++) {
        for (const arm of arms) {
          const { measurement, router } = await measure(arm, stack, options);
          if (round === 0) {
            options.progress(
              `discovery warm-up round ${arm.name}: ${Math.round(measurement.callsPerSecond)} calls/s, not counted`,
            );
            continue;
          }
          rounds.get(arm.name)?.push(measurement);
          if (router) usage.get(arm.name)?.push(router);
          options.progress(
            `discovery round ${round}/${options.rounds} ${arm.name}: ${Math.round(measurement.callsPerSecond)} calls/s, ` +
              `p50 ${measurement.p50Ms.toFixed(2)} ms, p99 ${measurement.p99Ms.toFixed(2)} ms` +
              (router
                ? `; Traefik ${(router.cpuCores * 100).toFixed(0)}% of a core, RSS ${router.rssMiB.toFixed(0)} MiB`
                : ""),
          );
        }
      }
      const results = arms.map(({ name, label }) => {
        const measured = rounds.get(name) ?? [];
        const routerRounds = usage.get(name) ?? [];
        const result: ContenderResult & { router?: { rounds: RouterUsage[]; median: RouterUsage } } = {
          name,
          label,
          rounds: measured,
          median: medianMeasurement(measured),
        };
        return routerRounds.length > 0
          ? { ...result, router: { rounds: routerRounds, median: medianUsage(routerRounds) } }
          : result;
      });
      options.progress("discovery: timing each arm one call at a time");
      const alone = new Map<string, SerialResult>();
      for (const arm of arms) alone.set(arm.name, await measureAlone(arm));
      // The shared report prints the throughput table after these lines, with server ÷ client as "× calls/s".
      const lines = [
        ...results.flatMap((r) => (r.router ? [formatRouterUsage(r.label, r.router.median)] : [])),
        formatAlone(alone.get("client") as SerialResult, alone.get("server") as SerialResult),
        formatPaired(pairedRatios(rounds)),
      ];
      process.stdout.write(`\n${lines.join("\n")}\n`);
      return {
        suite: "discovery",
        description:
          "KitchenService.GetMenu from createMeshClient (DEFAULT_CALL_POLICY, bulkhead widened to the load) to the " +
          "same two platform servers (child processes, registered in Consul by the registrar): client-side " +
          "discovery (Consul, the client balances) vs server-side discovery (every call through Traefik)",
        baseline: "client",
        // Each arm's one-at-a-time figures and its spread check ride along with its loaded ones, so that the JSON keeps them.
        contenders: results.map((r) => ({
          ...r,
          oneAtATime: alone.get(r.name),
          callsPerServer: spread.get(r.name),
          ...(r.name === "server" ? { pairedRatios: pairedRatios(rounds) } : {}),
        })),
        goals: [],
      };
    } finally {
      for (const registry of registries) await registry.close().catch(() => {});
      await stack.close();
    }
  },
};

/** The baseline first; every round measures them in this order, so slow drift hits both alike. */
function discoveryArms(stack: DiscoveryStack, policy: CallPolicy, registries: Registry[]): DiscoveryArm[] {
  const open = async (config: Parameters<typeof createRegistry>[0]) => {
    const registry = await createRegistry(config, { log: silentLogger() });
    registries.push(registry);
    return registry;
  };
  const shape = { ttlMs: REGISTRY_TTL_MS, heartbeatMs: Math.floor(REGISTRY_TTL_MS / 3) };
  let consul: Promise<Registry> | undefined;
  let router: Promise<Registry> | undefined;
  return [
    {
      name: "client",
      label: "(c) client-side: Consul registry, the client balances 2 instances",
      connect: async () => {
        consul ??= open({ ...shape, registry: "consul", consulAddr: stack.consulAddr });
        return listing(connectMesh(await consul, policy), stack.servers.length);
      },
    },
    {
      name: "server",
      label: "(s) server-side: every call to Traefik, which balances 2 instances",
      connect: async () => {
        router ??= open({ ...shape, registry: "router", routerAddr: stack.router.grpcAddr });
        return listing(connectMesh(await router, policy), 1);
      },
    },
  ];
}

/** Answers one call, then waits until the client lists `count` instances, so that the load is spread from the start. */
async function listing(client: MeshMenuClient, count: number): Promise<MeshMenuClient> {
  try {
    checkMenu(await client.getMenu());
    await waitFor(() => client.instances().length === count, {
      timeoutMs: 30_000,
      message: () => `${count} instance(s) listed, not ${client.instances().length}`,
    });
    return client;
  } catch (err) {
    client.close();
    throw err;
  }
}

/** One round of one arm: a fresh client, checked, warmed up, measured, closed; Traefik's usage around it. */
async function measure(
  arm: DiscoveryArm,
  stack: DiscoveryStack,
  options: BenchOptions,
): Promise<{ measurement: Measurement; router: RouterUsage | undefined }> {
  const client = await arm.connect();
  try {
    checkMenu(await client.getMenu());
    const over = await routerUsageOver(stack.router.pid);
    const measurement = await runLoad(() => client.getMenu(), options);
    return { measurement, router: await over.done(measurement.callsPerSecond) };
  } finally {
    client.close();
  }
}

/** Calls timed one after another per arm: a real round trip each, so a few seconds on a busy machine. */
const CALLS_ALONE = 2_000;

/** One arm with no other call in flight: what the hop itself adds, without the queueing of a loaded window. */
async function measureAlone(arm: DiscoveryArm): Promise<SerialResult> {
  const client = await arm.connect();
  try {
    return {
      name: `${arm.name}-serial`,
      label: arm.label,
      ...(await timeSerially(() => client.getMenu(), CALLS_ALONE)),
    };
  } finally {
    client.close();
  }
}

/**
 * Server ÷ client calls/s and p50 round by round: the two arms of a round run back to back, so on a machine
 * whose load drifts these pairs see more alike conditions than the two medians do.
 */
function pairedRatios(rounds: ReadonlyMap<string, readonly Measurement[]>) {
  const client = rounds.get("client") ?? [];
  const server = rounds.get("server") ?? [];
  const perRound = server.map((s, i) => {
    const c = client[i] as Measurement;
    return { callsPerSecond: s.callsPerSecond / c.callsPerSecond, p50: s.p50Ms / c.p50Ms };
  });
  return {
    perRound,
    median: { callsPerSecond: median(perRound.map((r) => r.callsPerSecond)), p50: median(perRound.map((r) => r.p50)) },
  };
}

function formatPaired({ perRound, median: mid }: ReturnType<typeof pairedRatios>): string {
  const list = (pick: (r: (typeof perRound)[number]) => number) => perRound.map((r) => pick(r).toFixed(2)).join(" ");
  return (
    `server ÷ client round by round: × calls/s ${list((r) => r.callsPerSecond)} (median ${mid.callsPerSecond.toFixed(2)}), ` +
    `× p50 ${list((r) => r.p50)} (median ${mid.p50.toFixed(2)})`
  );
}

function formatAlone(client: SerialResult, server: SerialResult): string {
  const us = (value: number) => `${value.toFixed(0)} µs`;
  return (
    `one call at a time (${CALLS_ALONE.toLocaleString("en-US")} calls each): client-side p50 ${us(client.p50Us)}, ` +
    `p99 ${us(client.p99Us)}; server-side p50 ${us(server.p50Us)}, p99 ${us(server.p99Us)}; ` +
    `the hop adds ${us(server.p50Us - client.p50Us)} at p50 (× p50 ${(server.p50Us / client.p50Us).toFixed(2)})`
  );
}

function medianUsage(rounds: readonly RouterUsage[]): RouterUsage {
  const of = (pick: (u: RouterUsage) => number) => median(rounds.map(pick));
  return {
    cpuCores: of((u) => u.cpuCores),
    cpuUsPerCall: of((u) => u.cpuUsPerCall),
    rssMiB: of((u) => u.rssMiB),
    peakRssMiB: of((u) => u.peakRssMiB),
  };
}
