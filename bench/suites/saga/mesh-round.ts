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
import { SAGA_PATHS } from "@ftgo/harness/saga-load.js";
import type { SagaMode } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { measurementOf, percentile } from "../../lib/stats.js";
import type { BenchOptions, Measurement } from "../../lib/suite.js";
import { measurePublishRate } from "./ceiling.js";
import { driveSagas, driveSteadyRate, meshTarget, type SagaDrive } from "./drive.js";
import { ALONE_ORDERS, type SagaSuiteSettings, STEADY_LOAD_SHARE, STEADY_SECONDS, WARM_UP_ORDERS } from "./settings.js";

/** The closed loop at full load, with the figures beyond the table's (saved in the JSON with the round). */
export interface SagaRound extends Measurement {
  readonly messagesPerSaga: number;
  readonly outboxRows: number;
  /** Commit → publish lag at full load. */
  readonly outboxLagP50Ms: number;
  readonly outboxLagP99Ms: number;
}

export interface CeilingRound extends Measurement {
  /** JetStream publishes per second (the table shows this ÷ messages per saga). */
  readonly publishesPerSecond: number;
  readonly messagesPerSaga: number;
}

/** The outbox under a steady load: the table's latencies are the commit → publish lag of its rows. */
export interface SteadyRound extends Measurement {
  readonly outboxRows: number;
  /** Orders placed per second, open loop: STEADY_LOAD_SHARE of the full-load orders/s. */
  readonly ordersPerSecond: number;
  /** Create → outcome at that rate. */
  readonly sagaP50Ms: number;
  readonly sagaP99Ms: number;
}

/** What one mesh measures: full load always; the rest in choreography only (the broker and the disk are the same). */
export interface MeshRound {
  readonly saga: SagaRound;
  readonly choreography?: {
    readonly ceiling: CeilingRound;
    /** The same closed loop along the approved path only: the bare pipeline's load. */
    readonly approved: Measurement;
    /** One order at a time, approved path: create → OrderApproved. */
    readonly alone: Measurement;
    readonly steady: SteadyRound;
  };
}

/**
 * A fresh mesh in `mode`: the broker's rate while idle, then the sagas at full load along the four seed
 * paths; in choreography also the approved path alone at full load, one order at a time, and a steady
 * half load. Every batch of orders must pass the saga audit before its figures count.
 */
export async function measureMesh(
  settings: SagaSuiteSettings,
  options: BenchOptions,
  mode: SagaMode,
): Promise<MeshRound> {
  const mesh = await startProcessMesh({ env: { SAGA_MODE: mode } });
  const clients = meshClients(mesh);
  let nc: NatsConnection | undefined;
  let dbs: SagaDatabases | undefined;
  try {
    nc = await connect({ servers: mesh.nats.url });
    dbs = openSagaDatabases(mesh.database.location);
    const open = { nc, dbs, mode };
    const publishes = mode === "choreography" ? await measurePublishRate(nc, options) : undefined;
    const mixed = meshTarget(clients);
    const approvedOnly = meshTarget(clients, [SAGA_PATHS[0] as (typeof SAGA_PATHS)[0]]);

    await settled(open, await driveSagas(nc, mixed, { orders: WARM_UP_ORDERS, inFlight: WARM_UP_ORDERS }));
    const jsm = await jetstreamManager(nc);
    const streamedBefore = total(await streamMessageCounts(jsm));
    const startedAtMs = Date.now();
    const full = await settled(open, await driveSagas(nc, mixed, settings));
    const messagesPerSaga = (total(await streamMessageCounts(jsm)) - streamedBefore) / settings.orders;
    const lags = outboxLags(dbs, startedAtMs);
    const saga: SagaRound = {
      ...full,
      messagesPerSaga,
      outboxRows: lags.length,
      outboxLagP50Ms: percentile(lags, 50),
      outboxLagP99Ms: percentile(lags, 99),
    };
    if (!publishes) return { saga };

    const approved = await settled(open, await driveSagas(nc, approvedOnly, settings));
    const alone = await settled(open, await driveSagas(nc, approvedOnly, { orders: ALONE_ORDERS, inFlight: 1 }));
    const ordersPerSecond = STEADY_LOAD_SHARE * saga.callsPerSecond;
    const steadySinceMs = Date.now();
    const steadyRun = await settled(
      open,
      await driveSteadyRate(nc, mixed, { perSecond: ordersPerSecond, seconds: STEADY_SECONDS }),
    );
    const steadyLags = outboxLags(dbs, steadySinceMs);
    return {
      saga,
      choreography: {
        ceiling: {
          ...publishes,
          callsPerSecond: publishes.callsPerSecond / messagesPerSaga,
          publishesPerSecond: publishes.callsPerSecond,
          messagesPerSaga,
        },
        approved,
        alone,
        steady: {
          calls: steadyRun.calls,
          seconds: steadyRun.seconds,
          callsPerSecond: ordersPerSecond,
          p50Ms: percentile(steadyLags, 50),
          p99Ms: percentile(steadyLags, 99),
          outboxRows: steadyLags.length,
          ordersPerSecond,
          sagaP50Ms: steadyRun.p50Ms,
          sagaP99Ms: steadyRun.p99Ms,
        },
      },
    };
  } finally {
    await nc?.close();
    clients.close();
    dbs?.close();
    await mesh.stop();
  }
}

/**
 * Waits until every participant is terminal for every order of `run`, fails the run if the audit finds
 * anything wrong (figures of a wrong run measure nothing), waits for the mesh to go quiet, and returns the
 * run as a measurement: orders per second until settled, create → outcome latencies.
 */
export async function settled(
  { nc, dbs, mode }: { nc: NatsConnection; dbs: SagaDatabases; mode: SagaMode },
  run: SagaDrive,
): Promise<Measurement> {
  await waitFor(() => readSagas(dbs, run.orderIds).every((saga) => isSettled(saga, mode)), {
    timeoutMs: 30_000,
    intervalMs: 20,
    message: "every participant to reach the saga's end for every order",
  });
  const seconds = Number(process.hrtime.bigint() - run.startedAt) / 1e9;
  const report = auditSagas(dbs, run.orderIds, mode);
  if (report.violations.length > 0) {
    throw new Error(
      `the saga audit failed; figures of a wrong run measure nothing:\n  ${report.violations.join("\n  ")}`,
    );
  }
  await waitFor(() => meshIsQuiet(nc, dbs), { timeoutMs: 30_000, intervalMs: 50, message: "the mesh to go quiet" });
  return measured(run, seconds);
}

/** A run's orders per second over `seconds`, and its create → end latencies. */
export function measured(run: SagaDrive, seconds: number): Measurement {
  return measurementOf(run.latenciesMs, seconds);
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
