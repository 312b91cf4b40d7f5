import { median, medianMeasurement } from "../lib/stats.js";
import type { ContenderResult, Measurement, Suite } from "../lib/suite.js";
import { type BareRound, measureBare } from "./saga/bare-round.js";
import { PUBLISHES_IN_FLIGHT } from "./saga/ceiling.js";
import { CONTENDER, previousContender, previousFigureNote, sagaGoals } from "./saga/goals.js";
import { type MeshRound, measureMesh } from "./saga/mesh-round.js";
import { lookUpPreviousFigure } from "./saga/previous.js";
import { ALONE_ORDERS, type SagaSuiteSettings, STEADY_LOAD_SHARE, STEADY_SECONDS } from "./saga/settings.js";
import { measureCommitRate } from "./saga/sqlite-ceiling.js";

export type { SagaSuiteSettings } from "./saga/settings.js";

/*
 * The Create Order saga end to end, on the mesh as `make up` runs it: five service processes, their
 * SQLite files, one nats-server, all on this machine, against what the same machine allows without the
 * platform. Each round measures, on fresh processes:
 *  - the choreography mesh: the JetStream publish rate (the broker's ceiling), the sagas at full load
 *    along the four seed paths (the figure compared with the previous commit's), the same load along the
 *    approved path only (the bare pipeline's load), one order at a time, and a steady half load, whose
 *    outbox commit → publish lag is the one the goal is about;
 *  - the orchestration mesh (SAGA_MODE=orchestration) at full load;
 *  - the bare pipeline (saga/bare/): the approved path written as the simplest correct code, at full
 *    load and one order at a time;
 *  - SQLite's committed-transaction rate with the platform's pragmas (the disk's ceiling).
 * Every batch of orders is audited before its figures count.
 */
export function sagaSuite(settings: SagaSuiteSettings): Suite {
  return {
    name: "saga",
    async run(options) {
      const previous = lookUpPreviousFigure(settings.compareWith);
      const choreography: Required<MeshRound>[] = [];
      const orchestration: MeshRound[] = [];
      const bare: BareRound[] = [];
      const commits: Measurement[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        const mesh = await measureMesh(settings, options, "choreography");
        if (!mesh.choreography)
          throw new Error("a choreography round measures the ceiling, the lone order and the lag");
        choreography.push(mesh as Required<MeshRound>);
        const orchestrated = await measureMesh(settings, options, "orchestration");
        orchestration.push(orchestrated);
        const pipeline = await measureBare(settings);
        bare.push(pipeline);
        const sqlite = measureCommitRate(options);
        commits.push(sqlite);
        const { saga, choreography: c } = mesh;
        options.progress(
          `saga round ${round}/${options.rounds}: ${saga.callsPerSecond.toFixed(1)} orders/s ` +
            `(p50 ${saga.p50Ms.toFixed(0)} ms, ${saga.messagesPerSaga.toFixed(2)} messages/saga), ` +
            `approved path ${c.approved.callsPerSecond.toFixed(1)} orders/s, bare ${pipeline.full.callsPerSecond.toFixed(1)}; ` +
            `orchestrated ${orchestrated.saga.callsPerSecond.toFixed(1)}; alone p50 ${c.alone.p50Ms.toFixed(1)} ms, ` +
            `bare ${pipeline.alone.p50Ms.toFixed(1)} ms; lag at ${c.steady.ordersPerSecond.toFixed(0)} orders/s ` +
            `p50 ${c.steady.p50Ms.toFixed(1)} ms, p99 ${c.steady.p99Ms.toFixed(1)} ms; ` +
            `JetStream ${c.ceiling.publishesPerSecond.toFixed(0)} publishes/s, SQLite ${sqlite.callsPerSecond.toFixed(0)} commits/s`,
        );
      }
      const contenders = [
        contender(
          "jetstream-ceiling",
          "JetStream ceiling (orders/s; latency = one publish)",
          choreography.map((r) => r.choreography.ceiling),
        ),
        contender("sqlite-ceiling", "SQLite ceiling (commits/s, one file; latency = one commit)", commits),
        contender(
          CONTENDER.bare,
          "bare pipeline, approved path (orders/s; latency = create → approved)",
          bare.map((r) => r.full),
        ),
        contender(
          CONTENDER.sagaApproved,
          "saga, choreography, approved path (same)",
          choreography.map((r) => r.choreography.approved),
        ),
        contender(
          CONTENDER.saga,
          "saga, choreography, four seed paths (orders/s; latency = create → outcome)",
          choreography.map((r) => r.saga),
        ),
        contender(
          CONTENDER.orchestration,
          "saga, orchestration, four seed paths (same)",
          orchestration.map((r) => r.saga),
        ),
        contender(
          CONTENDER.bareAlone,
          `bare pipeline, one order alone (${ALONE_ORDERS} in turn)`,
          bare.map((r) => r.alone),
        ),
        contender(
          CONTENDER.sagaAlone,
          `saga, one order alone (${ALONE_ORDERS} in turn)`,
          choreography.map((r) => r.choreography.alone),
        ),
        contender(
          CONTENDER.steadyLag,
          `saga at ${100 * STEADY_LOAD_SHARE} % load (orders/s placed; latency = outbox commit → publish)`,
          choreography.map((r) => r.choreography.steady),
        ),
        ...("figure" in previous ? [previousContender(previous.figure)] : []),
      ];
      const perSaga = median(choreography.map((r) => r.saga.messagesPerSaga));
      const lagAtFull = (pick: (r: Required<MeshRound>) => number) => median(choreography.map(pick)).toFixed(1);
      const today = medianMeasurement(choreography.map((r) => r.saga)).callsPerSecond;
      return {
        suite: "saga",
        description:
          `Create Order sagas (${settings.orders} orders, ${settings.inFlight} in flight; 5 service processes + nats-server) ` +
          `against the bare pipeline (4 participant processes, approved path, 6 messages/order, no framework; ` +
          `bench/suites/saga/bare/participant.ts says what it leaves out) and the raw ceilings: JetStream publishes/s ` +
          `(${PUBLISHES_IN_FLIGHT} in flight) ÷ ${perSaga.toFixed(2)} messages per saga, and SQLite commits/s of a saga ` +
          `step's transaction with the platform's pragmas (WAL, synchronous = NORMAL: a commit survives a process crash, ` +
          `the last ones may not survive a power cut). Outbox lag at full load p50 ${lagAtFull((r) => r.saga.outboxLagP50Ms)} ms, ` +
          `p99 ${lagAtFull((r) => r.saga.outboxLagP99Ms)} ms; at ${100 * STEADY_LOAD_SHARE} % load: open loop for ${STEADY_SECONDS} s`,
        baseline: "jetstream-ceiling",
        contenders,
        goals: sagaGoals("figure" in previous ? previous.figure : undefined),
        comparisons: [
          { label: "saga, four seed paths ÷ bare pipeline", contender: CONTENDER.saga, over: CONTENDER.bare },
        ],
        notes: [previousFigureNote(previous, today)],
      };
    },
  };
}

function contender(name: string, label: string, rounds: readonly Measurement[]): ContenderResult {
  return { name, label, rounds, median: medianMeasurement(rounds) };
}
