import { runLoad } from "../lib/load.js";
import { medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, Comparison, ContenderResult, Measurement, Suite } from "../lib/suite.js";
import { ensureGhz, type GhzMeasurement, runGhz } from "./polyglot/ghz.js";
import { type MenuServers, startMenuServers } from "./polyglot/servers.js";
import { checkMenu } from "./unary/menu.js";
import { connect } from "./unary/platform.js";

/*
 * TypeScript vs Go, the figures a team asks first when choosing a language for a service: the same
 * GetMenu served by a TypeScript server and a Go server under the same client (ghz), and called by a
 * TypeScript client and a Go client (ghz) against the same server — all four pairings, so that each
 * question is answered against both servers or both clients. Same concurrency, one connection, the same
 * warm-up and window for every pairing; each server has its own process, and each side gets one core's
 * worth (GOMAXPROCS=1 for the Go server, `--cpus 1` for ghz; Node runs JavaScript on one thread).
 */

type Side = "ts" | "go";

interface Pairing {
  readonly name: string;
  readonly label: string;
  readonly client: Side;
  readonly server: Side;
}

/** The baseline first; every round measures all four in this order, so slow drift hits all alike. */
const PAIRINGS: readonly Pairing[] = [
  { name: "ghz-ts", label: "(1) ghz (Go) → TypeScript server", client: "go", server: "ts" },
  { name: "ghz-go", label: "(2) ghz (Go) → Go server", client: "go", server: "go" },
  { name: "ts-go", label: "(3) TypeScript client → Go server", client: "ts", server: "go" },
  { name: "ts-ts", label: "(4) TypeScript client → TypeScript server", client: "ts", server: "ts" },
];

const COMPARISONS: readonly Comparison[] = [
  { label: "Go server ÷ TypeScript server, same ghz client (2 ÷ 1)", contender: "ghz-go", over: "ghz-ts" },
  { label: "Go server ÷ TypeScript server, same TypeScript client (3 ÷ 4)", contender: "ts-go", over: "ts-ts" },
  { label: "Go client ÷ TypeScript client, same Go server (2 ÷ 3)", contender: "ghz-go", over: "ts-go" },
  { label: "Go client ÷ TypeScript client, same TypeScript server (1 ÷ 4)", contender: "ghz-ts", over: "ts-ts" },
];

/** ghz's cores: one, as the Node client has one thread for JavaScript. */
const CLIENT_CPUS = 1;

export const polyglot: Suite = {
  name: "polyglot",
  async run(options) {
    const ghz = ensureGhz(options.progress);
    const servers = await startMenuServers(options.progress);
    try {
      const rounds = new Map<string, Measurement[]>(PAIRINGS.map(({ name }) => [name, []]));
      const cutOff = new Map<string, number[]>(PAIRINGS.map(({ name }) => [name, []]));
      for (let round = 1; round <= options.rounds; round++) {
        for (const pairing of PAIRINGS) {
          const m = await measure(pairing, servers, ghz, options);
          rounds.get(pairing.name)?.push(m);
          cutOff.get(pairing.name)?.push("cutOff" in m ? (m as GhzMeasurement).cutOff : 0);
          options.progress(
            `polyglot round ${round}/${options.rounds} ${pairing.name}: ${Math.round(m.callsPerSecond)} calls/s, ` +
              `p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms`,
          );
        }
      }
      const contenders: ContenderResult[] = PAIRINGS.map(({ name, label, client, server }) => {
        const measured = rounds.get(name) ?? [];
        // No call failed (a failure fails the suite); ghz cuts off the calls in flight when its window ends.
        const errors = { failed: 0, cutOffAtEnd: cutOff.get(name) ?? [] };
        return { name, label, client, server, rounds: measured, median: medianMeasurement(measured), errors };
      });
      return {
        suite: "polyglot",
        description:
          "KitchenService.GetMenu (r-1's seed menu): TypeScript (@ftgo/platform) and Go (grpc-go) servers, " +
          "each in its own process, called by ghz (Go) and by the platform's TypeScript client, one connection each",
        baseline: "ghz-ts",
        contenders,
        goals: [],
        comparisons: COMPARISONS,
      };
    } finally {
      await servers.close();
    }
  },
};

/** One round of one pairing: checked with one call, warmed up, measured. */
async function measure(
  pairing: Pairing,
  servers: MenuServers,
  ghz: string,
  options: BenchOptions,
): Promise<Measurement> {
  const address = servers[pairing.server];
  const client = connect(address);
  try {
    checkMenu(await client.getMenu());
    if (pairing.client === "ts") return await runLoad(() => client.getMenu(), options);
  } finally {
    client.close();
  }
  const load = { address, concurrency: options.concurrency, cpus: CLIENT_CPUS };
  await runGhz(ghz, { ...load, seconds: options.warmupSeconds });
  return runGhz(ghz, { ...load, seconds: options.seconds });
}
