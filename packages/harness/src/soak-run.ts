// `npm run soak`: a real mesh — every service its own process, the Go Loyalty service, the gateway, a
// nats-server on a file store — under steady orders through the gateway at half its measured capacity, while
// a bounded chaos schedule (soak-chaos.ts) kills, restarts, slows, fails and floods; then every saga is waited
// for and the end state audited (soak-audit.ts). Whatever happens, every process it started is stopped.
import { setTimeout as sleep } from "node:timers/promises";
import type { SagaMode } from "@ftgo/platform";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type GatewayProcess, startGatewayBeside } from "./gateway-process.js";
import { startLoyaltyBeside } from "./loyalty-process.js";
import { meshClients } from "./mesh-clients.js";
import { type ProcessMesh, startProcessMesh } from "./process-mesh.js";
import { openSagaDatabases, readSagas, type SagaDatabases } from "./saga-audit.js";
import type { ServiceInstance } from "./service-instance.js";
import { auditSoak, type SoakCheck, waitForSoakToSettle } from "./soak-audit.js";
import { type ChaosEvent, planChaos, runChaos } from "./soak-chaos.js";
import { type LoadStats, measureAcceptRate, signInConsumers, startOrderLoad } from "./soak-load.js";

export interface SoakOptions {
  /** How long the load (and the chaos beside it) runs. */
  readonly minutes: number;
  /** Orders per second; default half the capacity measured first. */
  readonly rate?: number;
  readonly mode: SagaMode;
  /** How long the sagas may take to settle once the load has stopped. */
  readonly settleTimeoutMs: number;
  readonly log: (line: string) => void;
  /** Aborted (Ctrl-C): the soak stops where it is, stops everything it started, and rejects. */
  readonly signal: AbortSignal;
}

/** What the soak measured, did and found. */
export interface SoakResult {
  /** Orders per second the mesh took in the measurement, and the rate the load then ran at. */
  readonly capacity: { readonly accepted: number; readonly settled: number } | undefined;
  readonly rate: number;
  readonly loadMs: number;
  /** The soak's load, and the measurement's (if there was one). */
  readonly loads: readonly LoadStats[];
  readonly chaos: readonly ChaosEvent[];
  /** Every order in the order database, by how it ended ("APPROVED", "REJECTED: card ending 0002 was declined"). */
  readonly outcomes: ReadonlyMap<string, number>;
  readonly checks: readonly SoakCheck[];
  /** Set when the sagas did not settle in time: what was still open. */
  readonly unsettled?: string;
}

/** How long the capacity is measured for, closed loop, before the soak. */
const MEASURE_MS = 5_000;

/** Runs the soak and resolves with what it found (the checks say whether it was clean); rejects only when it could not run. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { log, signal, mode } = options;
  const runId = `soak-${Date.now().toString(36)}`;
  const stops: (() => Promise<void> | void)[] = [];
  try {
    log("starting the mesh: five services, Loyalty, the gateway, nats-server on a file store…");
    const mesh: ProcessMesh = await startProcessMesh({
      env: { SAGA_MODE: mode, SAGA_STEP_TIMEOUT_MS: "120000" },
      signal,
    });
    stops.push(() => mesh.stop());
    const loyalty: ServiceInstance = await startLoyaltyBeside(mesh, { SAGA_MODE: mode });
    stops.push(() => loyalty.stop());
    // The seed has three consumers and the load is theirs: the per-caller limit would throttle the soak's own
    // customers. The edge limit (per address) stays at its default: that is what the flood runs into.
    const gateway: GatewayProcess = await startGatewayBeside(mesh, {
      RATE_LIMIT_RPS: "100000",
      RATE_LIMIT_BURST: "100000",
      JWT_TTL_SECONDS: String(24 * 3600),
    });
    stops.push(() => gateway.stop());
    const clients = meshClients(mesh);
    stops.push(() => clients.close());
    const dbs: SagaDatabases = openSagaDatabases(mesh.database.location);
    stops.push(() => dbs.close());
    const loyaltyDb = `${mesh.dataDir}/loyalty.db`;
    const tokens = await signInConsumers(gateway.url);
    log(`up: gateway ${gateway.url}, nats ${mesh.nats.url} (store ${mesh.nats.storeDir}), saga mode ${mode}`);

    const loads: LoadStats[] = [];
    let capacity: SoakResult["capacity"];
    let rate = options.rate;
    if (rate === undefined) {
      log(`measuring capacity: ${MEASURE_MS / 1000} s of closed-loop orders through the gateway…`);
      const started = performance.now();
      const measured = await measureAcceptRate(tokens, {
        url: gateway.url,
        keyPrefix: `${runId}-m`,
        durationMs: MEASURE_MS,
      });
      loads.push(measured.stats);
      await waitForSoakToSettle(dbs, loyaltyDb, { timeoutMs: 120_000, mode, log, signal });
      const settled = (measured.stats.placed.size * 1000) / (performance.now() - started);
      capacity = { accepted: measured.ratePerSecond, settled };
      rate = Math.max(1, Math.min(measured.ratePerSecond, settled) / 2);
      log(
        `capacity: ${measured.ratePerSecond.toFixed(1)} orders/s accepted, ${settled.toFixed(1)}/s settled; load at ${rate.toFixed(1)}/s`,
      );
    }

    const loadMs = options.minutes * 60_000;
    const plan = planChaos(loadMs);
    log(`load: ${rate.toFixed(1)} orders/s for ${options.minutes} min; chaos: ${plan.length} events`);
    const startedAt = performance.now();
    const load = startOrderLoad(tokens, { url: gateway.url, ratePerSecond: rate, keyPrefix: runId });
    loads.push(load.stats);
    stops.push(() => load.stop(1_000));
    const services = { ...mesh.instances, loyalty: [loyalty] };
    const chaos = runChaos(
      plan,
      {
        services: Object.fromEntries(
          Object.entries(services).map(([name, [first]]) => [name, first as ServiceInstance]),
        ),
        nats: mesh.nats,
        gatewayUrl: gateway.url,
      },
      { signal, log, startedAt },
    );
    const progress = setInterval(() => {
      const s = load.stats;
      log(
        `load: ${s.placed.size} placed, ${sum(s.clientErrors)} client errors, ${load.inFlight()} in flight, ${s.gaveUp} given up`,
      );
    }, 15_000);
    try {
      await sleep(loadMs, undefined, { signal });
      await chaos.done; // a schedule that ran late keeps the load going until its last event has ended
    } finally {
      clearInterval(progress);
    }
    log(`stopping the load (${load.inFlight()} orders in flight)…`);
    await load.stop();
    const loadEnded = performance.now() - startedAt;
    signal.throwIfAborted();

    log("waiting for every saga to settle…");
    let unsettled: string | undefined;
    await waitForSoakToSettle(dbs, loyaltyDb, { timeoutMs: options.settleTimeoutMs, mode, log, signal }).catch(
      (err: unknown) => {
        signal.throwIfAborted();
        unsettled = (err as Error).message;
        log(`not settled: ${unsettled}`);
      },
    );
    log("auditing…");
    const nc: NatsConnection = await connect({ servers: mesh.nats.url });
    stops.push(() => nc.close());
    const checks = await auditSoak({
      dbs,
      loyaltyDbFile: loyaltyDb,
      nc,
      clients,
      mode,
      loads,
      keyPrefix: runId,
      crashes: [
        ...mesh.crashes(),
        ...loyalty.crashes.map((how) => `loyalty: ${how}`),
        ...gateway.instance.crashes.map((how) => `gateway: ${how}`),
      ],
    });
    return {
      capacity,
      rate,
      loadMs: loadEnded,
      loads,
      chaos: chaos.events,
      outcomes: outcomesOf(dbs),
      checks: [...checks, chaosCheck(chaos.events)],
      unsettled,
    };
  } finally {
    log("stopping every process the soak started…");
    for (const stop of stops.reverse()) {
      await Promise.resolve()
        .then(stop)
        .catch((err: unknown) => log(`while stopping: ${(err as Error).message}`));
    }
  }
}

/** Every event of the schedule ran to its end: a restart that failed, or a fault never set, is no soak. */
function chaosCheck(events: readonly ChaosEvent[]): SoakCheck {
  const failed = events.filter((event) => event.failed);
  return {
    name: "every chaos event ran",
    ok: failed.length === 0,
    detail:
      failed.length === 0
        ? `${events.length} events`
        : failed
            .slice(0, 5)
            .map((event) => `${event.kind} ${event.what}: ${event.failed}`)
            .join("; "),
  };
}

function outcomesOf(dbs: SagaDatabases): Map<string, number> {
  const outcomes = new Map<string, number>();
  for (const saga of readSagas(dbs)) {
    const key = saga.order === "REJECTED" ? `REJECTED: ${saga.reason}` : saga.order;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  return outcomes;
}

function sum(counts: ReadonlyMap<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}
