import { availableParallelism } from "node:os";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { cpuMs, treeCpuMs } from "@ftgo/harness/process-progress.js";
import { openSagaDatabases } from "@ftgo/harness/saga-audit.js";
import { type Engine, natsServers, SERVICE_NAMES } from "@ftgo/platform";
import { type NatsClusterHandle, startNatsCluster } from "@ftgo/platform/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { median, medianMeasurement } from "../lib/stats.js";
import type { ContenderResult, Measurement, Suite } from "../lib/suite.js";
import { driveSagas, meshTarget } from "./saga/drive.js";
import { settled } from "./saga/mesh-round.js";
import { type SagaSuiteSettings, WARM_UP_ORDERS } from "./saga/settings.js";

/*
 * The same Create Order sagas (choreography, the four seed paths, a closed loop) on the layouts of
 * docs/scaling.md, each a fresh mesh, rounds interleaved: one instance of every service on one nats-server
 * (the baseline, as `make up` runs), two instances of every service sharing their service's SQLite file, and
 * one instance each on a three-node NATS cluster whose streams keep three replicas; then one and two instances
 * of every service on PostgreSQL (a schema each, one server). Every batch is audited
 * before its figures count. On two cores every layout is CPU-bound: the extra processes and replicas cost
 * CPU the machine does not have, so these ratios say what the layouts cost here, not what they gain on a
 * machine with a core per process.
 */

/** A layout's timed batch, and the CPU its processes spent on it per order. */
interface LayoutRound extends Measurement {
  readonly serviceCpuMsPerOrder: number;
  readonly brokerCpuMsPerOrder: number;
  /** The PostgreSQL server's, its backends included; 0 on SQLite (which runs inside the services). */
  readonly databaseCpuMsPerOrder: number;
}

interface Layout {
  readonly name: string;
  readonly label: string;
  readonly instances: number;
  readonly natsNodes: 1 | 3;
  readonly database: Engine;
}

const LAYOUTS: readonly Layout[] = [
  {
    name: "one",
    label: "1 instance per service, 1 NATS node (orders/s; latency = create → outcome)",
    instances: 1,
    natsNodes: 1,
    database: "sqlite",
  },
  {
    name: "two-instances",
    label: "2 instances per service, one SQLite file each service, 1 NATS node",
    instances: 2,
    natsNodes: 1,
    database: "sqlite",
  },
  {
    name: "nats-cluster",
    label: "1 instance per service, 3 NATS nodes, streams with 3 replicas",
    instances: 1,
    natsNodes: 3,
    database: "sqlite",
  },
  {
    name: "postgres",
    label: "1 instance per service on PostgreSQL (a schema each), 1 NATS node",
    instances: 1,
    natsNodes: 1,
    database: "postgres",
  },
  {
    name: "postgres-two-instances",
    label: "2 instances per service on PostgreSQL, 1 NATS node",
    instances: 2,
    natsNodes: 1,
    database: "postgres",
  },
];

export function scaleSuite(settings: SagaSuiteSettings): Suite {
  return {
    name: "scale",
    async run(options) {
      const rounds = new Map<string, LayoutRound[]>(LAYOUTS.map(({ name }) => [name, []]));
      for (let round = 1; round <= options.rounds; round++) {
        for (const layout of LAYOUTS) {
          const measured = await measureLayout(layout, settings);
          rounds.get(layout.name)?.push(measured);
          options.progress(
            `scale round ${round}/${options.rounds} ${layout.name}: ${measured.callsPerSecond.toFixed(1)} orders/s, ` +
              `p50 ${measured.p50Ms.toFixed(0)} ms, p99 ${measured.p99Ms.toFixed(0)} ms; CPU per order: services ` +
              `${measured.serviceCpuMsPerOrder.toFixed(1)} ms, broker ${measured.brokerCpuMsPerOrder.toFixed(1)} ms, ` +
              `database ${measured.databaseCpuMsPerOrder.toFixed(1)} ms`,
          );
        }
      }
      const contenders: ContenderResult[] = LAYOUTS.map(({ name, label }) => {
        const measured = rounds.get(name) ?? [];
        return { name, label, rounds: measured, median: medianMeasurement(measured) };
      });
      const cpuNotes = LAYOUTS.map(({ name }) => {
        const measured = rounds.get(name) ?? [];
        const services = median(measured.map((r) => r.serviceCpuMsPerOrder));
        const broker = median(measured.map((r) => r.brokerCpuMsPerOrder));
        const database = median(measured.map((r) => r.databaseCpuMsPerOrder));
        const perSecond = median(measured.map((r) => r.callsPerSecond));
        const coresBusy = ((services + broker + database) * perSecond) / 1000;
        const inDatabase = database > 0 ? ` + ${database.toFixed(1)} ms in PostgreSQL` : "";
        return `${name}: CPU per order ${services.toFixed(1)} ms in the services + ${broker.toFixed(1)} ms in nats-server${inDatabase}; ${coresBusy.toFixed(2)} of ${availableParallelism()} cores busy`;
      });
      return {
        suite: "scale",
        description:
          `Create Order sagas, choreography (${settings.orders} orders, ${settings.inFlight} in flight), on the layouts of ` +
          `docs/scaling.md, every process on this machine's cores`,
        baseline: "one",
        contenders,
        goals: [],
        notes: [
          ...cpuNotes,
          "Every layout shares the same cores: a second instance or a replica adds work, not capacity, until each process has a core of its own.",
        ],
      };
    },
  };
}

/** A fresh mesh in `layout`: a warm-up batch, then the timed batch; both audited. */
async function measureLayout(layout: Layout, settings: SagaSuiteSettings): Promise<LayoutRound> {
  let cluster: NatsClusterHandle | undefined;
  let nc: NatsConnection | undefined;
  const mesh = await (async () => {
    if (layout.natsNodes === 3) cluster = await startNatsCluster({ nodes: 3 });
    return startProcessMesh({
      instances: Object.fromEntries(SERVICE_NAMES.map((name) => [name, layout.instances])),
      ...(cluster ? { natsUrl: cluster.url } : {}),
      database: layout.database,
      env: { SAGA_MODE: "choreography", ...(cluster ? { FTGO_STREAM_REPLICAS: "3" } : {}) },
    });
  })().catch(async (err) => {
    await cluster?.stop();
    throw err;
  });
  const clients = meshClients(mesh);
  const dbs = openSagaDatabases(mesh.database.location);
  try {
    nc = await connect({ servers: natsServers(mesh.natsUrl) });
    const open = { nc, dbs, mode: "choreography" as const };
    const target = meshTarget(clients);
    await settled(open, await driveSagas(nc, target, { orders: WARM_UP_ORDERS, inFlight: WARM_UP_ORDERS }));
    const servicePids = SERVICE_NAMES.flatMap((name) => mesh.instances[name].flatMap((instance) => instance.pid ?? []));
    const brokerPids = cluster ? cluster.nodes.map((node) => node.pid) : [mesh.nats.pid];
    const cpu = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const databaseCpu = () => (mesh.database.pid === undefined ? 0 : treeCpuMs(mesh.database.pid));
    const before = { services: cpu(servicePids), broker: cpu(brokerPids), database: databaseCpu() };
    const measured = await settled(open, await driveSagas(nc, target, settings));
    return {
      ...measured,
      serviceCpuMsPerOrder: (cpu(servicePids) - before.services) / settings.orders,
      brokerCpuMsPerOrder: (cpu(brokerPids) - before.broker) / settings.orders,
      databaseCpuMsPerOrder: (databaseCpu() - before.database) / settings.orders,
    };
  } finally {
    await nc?.close();
    clients.close();
    dbs.close();
    await mesh.stop();
    await cluster?.stop();
  }
}
