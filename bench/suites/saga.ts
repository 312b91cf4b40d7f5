import { meshIsQuiet, streamMessageCounts } from "@ftgo/harness/jetstream-streams.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { startProcessMesh } from "@ftgo/harness/process-mesh.js";
import {
  auditSagas,
  isSettled,
  openSagaDatabases,
  readSagas,
  SAGA_PARTICIPANTS,
  type SagaDatabases,
} from "@ftgo/harness/saga-audit.js";
import type { SagaMode } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { median, medianMeasurement, percentile } from "../lib/stats.js";
import type { BenchOptions, Measurement, Suite } from "../lib/suite.js";
import { measurePublishRate, PUBLISHES_IN_FLIGHT } from "./saga/ceiling.js";
import { driveSagas } from "./saga/drive.js";

/*
 * The Create Order saga end to end, on the mesh as `make up` runs it: five service processes, their
 * SQLite files, one nats-server, all on this machine. It answers three questions: how many orders per
 * second the choreography completes, how far that is from what the broker alone could carry, and what
 * orchestrating the same saga costs (SAGA_MODE=orchestration: one step at a time, a command and a reply
 * per step, on a fresh mesh of its own in the same round).
 */

export interface SagaSuiteSettings {
  /** Orders per round (BENCH_SAGA_ORDERS, default 300). */
  readonly orders: number;
  /** Sagas in progress at once (BENCH_SAGA_IN_FLIGHT, default 32). */
  readonly inFlight: number;
}

/** Orders through the saga before timing starts: two down each path, so every handler has run. */
const WARM_UP_ORDERS = 8;

/** One round's figures beyond the table's: saved in the JSON with the round. */
interface SagaRound extends Measurement {
  /** Until every participant was terminal for every order (the table's orders/s uses this). */
  readonly settledSeconds: number;
  readonly messagesPerSaga: number;
  readonly outboxRows: number;
  readonly outboxLagP50Ms: number;
  readonly outboxLagP99Ms: number;
}

interface CeilingRound extends Measurement {
  /** JetStream publishes per second (the table shows this ÷ messages per saga). */
  readonly publishesPerSecond: number;
  readonly messagesPerSaga: number;
}

export function sagaSuite(settings: SagaSuiteSettings): Suite {
  return {
    name: "saga",
    async run(options) {
      const sagas: SagaRound[] = [];
      const orchestrated: SagaRound[] = [];
      const ceilings: CeilingRound[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        const { saga, ceiling } = await measureRound(settings, options, "choreography");
        if (!ceiling) throw new Error("a choreography round measures the JetStream ceiling");
        sagas.push(saga);
        ceilings.push(ceiling);
        const { saga: orchestration } = await measureRound(settings, options, "orchestration");
        orchestrated.push(orchestration);
        options.progress(
          `saga round ${round}/${options.rounds}: ${saga.callsPerSecond.toFixed(1)} orders/s ` +
            `(p50 ${saga.p50Ms.toFixed(0)} ms, p99 ${saga.p99Ms.toFixed(0)} ms per saga), ` +
            `${saga.messagesPerSaga.toFixed(2)} messages/saga, JetStream ${ceiling.publishesPerSecond.toFixed(0)} publishes/s ` +
            `→ ceiling ${ceiling.callsPerSecond.toFixed(0)} orders/s; outbox lag p50 ${saga.outboxLagP50Ms.toFixed(1)} ms, ` +
            `p99 ${saga.outboxLagP99Ms.toFixed(1)} ms; orchestrated ${orchestration.callsPerSecond.toFixed(1)} orders/s ` +
            `(p50 ${orchestration.p50Ms.toFixed(0)} ms per saga, ${orchestration.messagesPerSaga.toFixed(2)} messages/saga)`,
        );
      }
      const orchestrationRatio = median(
        orchestrated.map((o, i) => o.callsPerSecond / (sagas[i] as SagaRound).callsPerSecond),
      );
      const lagP50 = median(sagas.map((s) => s.outboxLagP50Ms));
      const lagP99 = median(sagas.map((s) => s.outboxLagP99Ms));
      const perSaga = median(sagas.map((s) => s.messagesPerSaga));
      const share = median(sagas.map((s, i) => s.callsPerSecond / (ceilings[i] as CeilingRound).callsPerSecond));
      return {
        suite: "saga",
        description:
          `Create Order saga end to end (${settings.orders} orders, ${settings.inFlight} sagas in flight, ` +
          `5 service processes + nats-server) at ${(100 * share).toFixed(2)} % of its JetStream ceiling; ` +
          `ceiling = JetStream publishes/s (${PUBLISHES_IN_FLIGHT} in flight) ÷ ` +
          `${perSaga.toFixed(2)} messages per saga; outbox commit→publish lag p50 ${lagP50.toFixed(1)} ms, p99 ${lagP99.toFixed(1)} ms; ` +
          `orchestration completes ${orchestrationRatio.toFixed(2)}× the choreography's orders/s`,
        baseline: "jetstream-ceiling",
        contenders: [
          {
            name: "jetstream-ceiling",
            label: "JetStream ceiling (orders/s; latency = one publish)",
            rounds: ceilings,
            median: medianMeasurement(ceilings),
          },
          {
            name: "saga",
            label: "saga, choreography (orders/s; latency = create → outcome)",
            rounds: sagas,
            median: medianMeasurement(sagas),
          },
          {
            name: "saga-orchestration",
            label: "saga, orchestration (orders/s; latency = create → outcome)",
            rounds: orchestrated,
            median: medianMeasurement(orchestrated),
          },
        ],
        goals: [],
      };
    },
  };
}

/**
 * A fresh mesh in `mode`; the broker's rate on it while idle (choreography only: the broker is the same);
 * then the sagas, checked by the audit before they count.
 */
async function measureRound(
  settings: SagaSuiteSettings,
  options: BenchOptions,
  mode: SagaMode,
): Promise<{ saga: SagaRound; ceiling: CeilingRound | undefined }> {
  const mesh = await startProcessMesh({ env: { SAGA_MODE: mode } });
  const clients = meshClients(mesh);
  let nc: NatsConnection | undefined;
  let dbs: SagaDatabases | undefined;
  try {
    nc = await connect({ servers: mesh.nats.url });
    dbs = openSagaDatabases(mesh.dbFile);
    const publishes = mode === "choreography" ? await measurePublishRate(nc, options) : undefined;

    await driveSagas(clients, nc, { orders: WARM_UP_ORDERS, inFlight: WARM_UP_ORDERS });
    await waitUntilQuiet(nc, dbs);
    const jsm = await jetstreamManager(nc);
    const streamedBefore = total(await streamMessageCounts(jsm));
    const startedAtMs = Date.now();

    const run = await driveSagas(clients, nc, settings);
    const openDbs = dbs;
    await waitFor(() => readSagas(openDbs, run.orderIds).every((saga) => isSettled(saga, mode)), {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: "every participant to reach the saga's end for every order",
    });
    const settledSeconds = Number(process.hrtime.bigint() - run.startedAt) / 1e9;
    const report = auditSagas(dbs, run.orderIds, mode);
    if (report.violations.length > 0) {
      throw new Error(
        `the saga audit failed; figures of a wrong run measure nothing:\n  ${report.violations.join("\n  ")}`,
      );
    }
    await waitUntilQuiet(nc, dbs);
    const messagesPerSaga = (total(await streamMessageCounts(jsm)) - streamedBefore) / settings.orders;
    const lags = outboxLags(dbs, startedAtMs);
    const sortedLatencies = Float64Array.from(run.latenciesMs).sort();
    return {
      saga: {
        calls: settings.orders,
        seconds: settledSeconds,
        callsPerSecond: settings.orders / settledSeconds,
        p50Ms: percentile(sortedLatencies, 50),
        p99Ms: percentile(sortedLatencies, 99),
        settledSeconds,
        messagesPerSaga,
        outboxRows: lags.length,
        outboxLagP50Ms: percentile(lags, 50),
        outboxLagP99Ms: percentile(lags, 99),
      },
      ceiling: publishes && {
        ...publishes,
        callsPerSecond: publishes.callsPerSecond / messagesPerSaga,
        publishesPerSecond: publishes.callsPerSecond,
        messagesPerSaga,
      },
    };
  } finally {
    await nc?.close();
    clients.close();
    dbs?.close();
    await mesh.stop();
  }
}

function waitUntilQuiet(nc: NatsConnection, dbs: SagaDatabases): Promise<true> {
  return waitFor(() => meshIsQuiet(nc, dbs), { timeoutMs: 30_000, intervalMs: 50, message: "the mesh to go quiet" });
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** Commit → publish lag of every outbox row written since `sinceMs`, in every participant's database, sorted. */
function outboxLags(dbs: SagaDatabases, sinceMs: number): Float64Array {
  const lags = SAGA_PARTICIPANTS.flatMap((service) =>
    dbs[service]
      .prepare<[number], { lag: number }>(
        "SELECT published_at - created_at AS lag FROM outbox WHERE created_at >= ? AND published_at IS NOT NULL",
      )
      .all(sinceMs)
      .map((row) => row.lag),
  );
  return Float64Array.from(lags).sort();
}
