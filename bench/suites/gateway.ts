import { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import type { ContenderResult, Suite } from "../lib/suite.js";
import {
  type Contender,
  type DirectClients,
  detailsContenders,
  MENU_PATH,
  menuContenders,
  placeApprovedOrder,
} from "./gateway/calls.js";
import { type MeasuredContender, measureRounds, REWARM_SECONDS } from "./gateway/rounds.js";
import { type GatewayStack, gatewaySettings, startGatewayStack } from "./gateway/stack.js";
import { formatAddedTable, formatCompositionTable, formatCpuTable } from "./gateway/table.js";
import { addedLatency, compositionCost, gatewayCpu } from "./gateway/verdicts.js";

/*
 * The API gateway's cost, on the mesh as `make up` runs it: five service processes, the Go Loyalty
 * service, a nats-server, and the gateway in a process of its own, its cache off and its rate limit out
 * of the way. Three questions: what the edge (HTTP, auth, routing, translation, the mesh client) adds to
 * one gRPC call, what API composition costs over making the same calls in parallel without it, and how
 * much CPU the gateway spends per request. Each is asked with the suite's calls in flight and one call at
 * a time, where the added latency shows without queueing around it.
 */

/**
 * Each phase's timed window (and first warm-up), as a share of BENCH_SECONDS (BENCH_WARMUP_SECONDS).
 * The single-leg comparison under load gets the whole of it, as in the other suites; the other phases,
 * six contenders each for the details, get shorter windows, so that a default run (5 s windows,
 * 2 rounds) stays under 90 s. A 1 s window one call at a time still holds several hundred composed
 * calls and some two thousand direct ones.
 */
const SHARE = { menuLoaded: 1, menuAlone: 0.2, detailsLoaded: 0.3, detailsAlone: 0.2 } as const;

export const gateway: Suite = {
  name: "gateway",
  async run(options) {
    const { concurrency, progress } = options;
    const stack = await startGatewayStack({ concurrency, progress });
    const direct = directClients(stack);
    try {
      const menu = await menuContenders(stack.http, direct);
      const order = await placeApprovedOrder(stack.http);
      progress(`gateway: order ${order.orderId} of c-1001 is APPROVED`);
      const details = await detailsContenders(stack.http, direct, order);
      progress(`gateway: DeliveryService.GetDelivery answers ${details.deliveryAnswer} for it`);

      const phase = (name: string, contenders: Contender[], inFlight: number, share: number, warm: boolean) =>
        measureRounds(contenders, {
          phase: name,
          concurrency: inFlight,
          rounds: options.rounds,
          seconds: options.seconds * share,
          warmupSeconds: warm ? REWARM_SECONDS : options.warmupSeconds * share,
          progress,
          gatewayPid: stack.gatewayPid,
        });
      const menuLoaded = await phase("menu", menu, concurrency, SHARE.menuLoaded, false);
      const menuAlone = await phase("menu", menu, 1, SHARE.menuAlone, true);
      const detailsList = [details.composed, details.fanOut, ...details.legs];
      const detailsLoaded = await phase("details", detailsList, concurrency, SHARE.detailsLoaded, false);
      const detailsAlone = await phase("details", detailsList, 1, SHARE.detailsAlone, true);

      const [directMenu, gatewayMenu] = menuLoaded as [ContenderResult, ContenderResult];
      const [directAlone, gatewayAlone] = menuAlone as [ContenderResult, ContenderResult];
      const added = [addedLatency(directMenu, gatewayMenu, concurrency), addedLatency(directAlone, gatewayAlone, 1)];
      const costOf = (results: ContenderResult[], inFlight: number) => {
        const [composed, fanOut, ...legs] = results as [ContenderResult, ContenderResult, ...ContenderResult[]];
        return compositionCost(composed, fanOut, legs, inFlight);
      };
      const cpuOf = (results: MeasuredContender[], name: string) =>
        results.find((c) => c.name === name)?.gatewayCpuMsPerCall ?? Number.NaN;
      const cpu = [
        gatewayCpu(concurrency, cpuOf(menuLoaded, "gateway-menu"), cpuOf(detailsLoaded, "gateway-details")),
        gatewayCpu(1, cpuOf(menuAlone, "gateway-menu"), cpuOf(detailsAlone, "gateway-details")),
      ];
      const composition = [
        { concurrency, results: detailsLoaded, cost: costOf(detailsLoaded, concurrency) },
        { concurrency: 1, results: detailsAlone, cost: costOf(detailsAlone, 1) },
      ];

      // The shared report prints the loaded figures after these, as ratios to the direct GetMenu.
      process.stdout.write(
        `\n${formatAddedTable(added, `gateway, single leg: GET ${MENU_PATH} (cache off) − KitchenService.GetMenu direct`)}\n`,
      );
      process.stdout.write(
        `\n${formatCompositionTable(
          composition,
          `gateway, composition: GET /api/v1/orders/{id} (${details.legs.length} calls in parallel, cache off; delivery answers ${details.deliveryAnswer}) vs the same calls direct`,
        )}\n`,
      );
      process.stdout.write(`\n${formatCpuTable(cpu, "gateway, CPU per request (its own process)")}\n`);

      // The one-at-a-time figures and the verdicts ride along with the loaded contenders, so that the JSON keeps them.
      const alone = new Map([...menuAlone, ...detailsAlone].map((c) => [c.name, c]));
      const withExtras = (c: ContenderResult) => ({
        ...c,
        concurrency,
        oneAtATime: alone.get(c.name),
        ...(c.name === "gateway-menu" ? { addedLatency: added } : {}),
        ...(c.name === "gateway-details" ? { compositionCost: composition.map(({ cost }) => cost), cpu } : {}),
      });
      return {
        suite: "gateway",
        description:
          `the gateway (own process, ${describeSettings(concurrency)}) in front of 5 service processes + Loyalty (Go) + nats-server: ` +
          `GET menu vs KitchenService.GetMenu direct, composed order details vs its calls direct; ` +
          `HTTP load from node:http with a keep-alive Agent`,
        baseline: directMenu.name,
        contenders: [...menuLoaded, ...detailsLoaded].map(withExtras),
        goals: [],
      };
    } finally {
      direct.close();
      await stack.stop();
    }
  },
};

/** The mesh's clients, and one of Loyalty, each over a transport of its own, as an outside caller would make them. */
function directClients(stack: GatewayStack): DirectClients {
  const mesh = meshClients(stack.mesh);
  const loyalty = createGrpcTransport({ address: stack.loyalty.address });
  return {
    ...mesh,
    loyalty: createGrpcClient(LoyaltyService, loyalty),
    close() {
      mesh.close();
      loyalty.close();
    },
  };
}

function describeSettings(concurrency: number): string {
  return Object.entries(gatewaySettings(concurrency))
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
}
