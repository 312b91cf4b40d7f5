import { fileURLToPath } from "node:url";
import { startServerChild } from "../lib/child.js";
import { runLoad } from "../lib/load.js";
import { medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, Measurement, Suite } from "../lib/suite.js";
import { CONTENDERS, type ContenderName, HOST } from "./unary/contenders.js";
import { checkMenu } from "./unary/menu.js";

/*
 * Unary gRPC on loopback: how much the platform's server and client cost over bare grpc-js, with
 * connect-node on both ends for scale. Each server runs in its own process; the client runs here.
 */

/** The baseline first; every round measures all three in this order, so slow drift hits all alike. */
const ORDER: readonly ContenderName[] = ["grpc-js", "platform", "connect-node"];

const SERVER_SCRIPT = fileURLToPath(new URL("../server.ts", import.meta.url));

export const unary: Suite = {
  name: "unary",
  async run(options) {
    const rounds = new Map<ContenderName, Measurement[]>(ORDER.map((name) => [name, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const name of ORDER) {
        const m = await measureUnary(name, options);
        rounds.get(name)?.push(m);
        options.progress(
          `unary round ${round}/${options.rounds} ${name}: ${Math.round(m.callsPerSecond)} calls/s, ` +
            `p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms`,
        );
      }
    }
    return {
      suite: "unary",
      description: "KitchenService.GetMenu (r-1's 3-item menu) over gRPC, server in a child process",
      baseline: "grpc-js",
      contenders: ORDER.map((name) => {
        const measured = rounds.get(name) ?? [];
        return { name, label: CONTENDERS[name].label, rounds: measured, median: medianMeasurement(measured) };
      }),
      goals: [{ contender: "platform", atLeast: 0.8 }],
    };
  },
};

/** One round of one contender: a fresh server process and a fresh client, checked, warmed up, measured. */
export async function measureUnary(name: ContenderName, options: BenchOptions): Promise<Measurement> {
  const server = await startServerChild(SERVER_SCRIPT, [name]);
  try {
    const contender = await CONTENDERS[name].load();
    const client = contender.connect(`${HOST}:${server.port}`);
    try {
      checkMenu(await client.getMenu());
      return await runLoad(() => client.getMenu(), options);
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}
