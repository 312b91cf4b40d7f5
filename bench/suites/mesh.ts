import type { CallPolicy } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { runLoad } from "../lib/load.js";
import { medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, ContenderResult, Measurement, Suite } from "../lib/suite.js";
import { connectBare, connectMesh, hopPolicy, type MeshMenuClient } from "./mesh/clients.js";
import { measureFullBulkhead, measureOpenBreaker, measureReferenceCalls } from "./mesh/rejections.js";
import type { SerialResult } from "./mesh/serial.js";
import { type KitchenFleet, startKitchenFleet } from "./mesh/servers.js";
import { formatSerialTable, type SerialBaselines, serialRatios } from "./mesh/table.js";
import type { MenuClient } from "./unary/contenders.js";
import { checkMenu } from "./unary/menu.js";

/*
 * The mesh hop: what discovery and the call policy (deadline, bulkhead, retry, breaker) cost a call,
 * over the plain platform client to the same server; and how fast a caller hears "no" from an open
 * breaker or a full bulkhead. The servers (the unary suite's (a), each in a child process) start once
 * for the whole suite, so the baseline and the mesh client call the very same process; every
 * measurement gets a fresh client.
 */

interface HopContender {
  readonly name: string;
  readonly label: string;
  /** A client, connected and ready: its instances listed, one call answered. */
  connect(): Promise<MenuClient>;
}

export const mesh: Suite = {
  name: "mesh",
  async run(options) {
    const fleet = await startKitchenFleet(options.progress);
    try {
      const policy = hopPolicy(options.concurrency);
      const contenders = hopContenders(fleet, policy);
      const rounds = new Map<string, Measurement[]>(contenders.map(({ name }) => [name, []]));
      for (let round = 1; round <= options.rounds; round++) {
        for (const contender of contenders) {
          const m = await measure(contender, options);
          rounds.get(contender.name)?.push(m);
          options.progress(
            `mesh round ${round}/${options.rounds} ${contender.name}: ${Math.round(m.callsPerSecond)} calls/s, ` +
              `p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms`,
          );
        }
      }
      const results: ContenderResult[] = contenders.map(({ name, label }) => {
        const measured = rounds.get(name) ?? [];
        return { name, label, rounds: measured, median: medianMeasurement(measured) };
      });

      const serial: SerialResult[] = [...(await measureReferenceCalls(fleet, policy))];
      options.progress("mesh: references timed one at a time; opening the breaker");
      serial.push(await measureOpenBreaker(fleet));
      options.progress("mesh: open breaker timed; filling the bulkhead");
      serial.push(await measureFullBulkhead(fleet));

      const baseline = results[0] as ContenderResult;
      const baselines: SerialBaselines = {
        label: baseline.label,
        loadedP50Ms: baseline.median.p50Ms,
        concurrency: options.concurrency,
        serialP50Us: (serial[0] as SerialResult).p50Us,
      };
      // The shared report prints the throughput table after this one; see table.ts for why there are two.
      process.stdout.write(`\n${formatSerialTable(serial, baselines)}\n`);
      const oneAtATime = serial.map((row) => ({ ...row, ratios: serialRatios(row, baselines) }));
      const { limit, queue } = policy.bulkhead;
      return {
        suite: "mesh",
        description:
          `KitchenService.GetMenu through createMeshClient (registry + DEFAULT_CALL_POLICY, bulkhead widened ` +
          `to ${limit} + ${queue}) vs createGrpcClient, same platform server in a child process`,
        baseline: baseline.name,
        // The one-at-a-time rows ride along with the mesh client's figures, so that the JSON keeps them.
        contenders: results.map((c) => (c.name === "mesh" ? { ...c, oneAtATime } : c)),
        goals: [{ contender: "mesh", atLeast: 0.8 }],
      };
    } finally {
      await fleet.close();
    }
  },
};

/** The baseline first; every round measures them in this order, so slow drift hits all alike. */
function hopContenders(fleet: KitchenFleet, policy: CallPolicy): HopContender[] {
  const contenders: HopContender[] = [
    { name: "bare", label: "(b') platform client", connect: async () => connectBare(fleet.address) },
    {
      name: "mesh",
      label: "(m) mesh client, static registry, 1 instance",
      connect: async () => connectMesh(fleet.staticRegistry, policy),
    },
  ];
  const { natsRegistry } = fleet;
  if (natsRegistry) {
    contenders.push({
      name: "mesh-2",
      label: "(m2) mesh client, NATS KV registry, 2 instances",
      connect: () => listing(connectMesh(natsRegistry, policy), 2),
    });
  }
  return contenders;
}

/** Waits until the client's registry watch has listed `count` instances, so that the load is spread from the start. */
async function listing(client: MeshMenuClient, count: number): Promise<MeshMenuClient> {
  try {
    checkMenu(await client.getMenu());
    await waitFor(() => client.instances().length === count, { message: () => `${count} instances listed` });
    return client;
  } catch (err) {
    client.close();
    throw err;
  }
}

/** One round of one contender: a fresh client, checked, warmed up, measured, closed. */
async function measure(contender: HopContender, options: BenchOptions): Promise<Measurement> {
  const client = await contender.connect();
  try {
    checkMenu(await client.getMenu());
    return await runLoad(() => client.getMenu(), options);
  } finally {
    client.close();
  }
}
