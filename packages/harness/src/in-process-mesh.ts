import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAccountingConfig, startAccounting } from "@ftgo/accounting";
import { loadConsumerConfig, startConsumer } from "@ftgo/consumer";
import { loadDeliveryConfig, startDelivery } from "@ftgo/delivery";
import { loadKitchenConfig, startKitchen } from "@ftgo/kitchen";
import { loadOrderConfig, startOrder } from "@ftgo/order";
import { type DiscoveryMode, type RunningService, type ServiceName, silentLogger } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { registerWithRouter, routedByRouter } from "./router-registrations.js";
import { type ServerSideDiscovery, startServerSideDiscovery } from "./server-side-discovery.js";
import { type MeshDatabase, type StartedMeshDatabase, startMeshDatabase, testDatabaseEngine } from "./test-database.js";

/** The five services of the mesh, running in this process on free ports, each with its own database. */
export interface TestMesh {
  readonly order: RunningService;
  readonly consumer: RunningService;
  readonly kitchen: RunningService;
  readonly accounting: RunningService;
  readonly delivery: RunningService;
  readonly dataDir: string;
  /** Where the services keep their data: files in dataDir, or schemas of a PostgreSQL server of the mesh's own. */
  readonly database: MeshDatabase;
  /** The mesh's own nats-server: durable consumer names are per server, so meshes never share one. */
  readonly nats: NatsServerHandle;
  /** Under `discovery: "server"`: the Consul agent, the router (Traefik) and the registrar the mesh runs on. */
  readonly serverSide?: ServerSideDiscovery;
  stop(): Promise<void>;
}

export interface TestMeshOptions {
  /**
   * "client" (default): the services find each other in the NATS-KV registry. "server": a Consul agent and
   * Traefik are started too, the services run with DISCOVERY=server and call each other through Traefik,
   * and the harness registers each one in Consul (the registrar) once it listens.
   */
  readonly discovery?: DiscoveryMode;
}

/**
 * Starts every service in-process on port 0 (real gRPC servers on real sockets, real SQLite files in a
 * temp folder, or a PostgreSQL server of its own under FTGO_TEST_DATABASE=postgres) with a nats-server of its own, Kitchen first because Order prices orders from it.
 * `stop()` stops them (deregistering each first under server-side discovery), then the router, Consul and
 * NATS, and removes the folder; a start that fails does the same before it rethrows.
 */
export async function startTestMesh(
  extraEnv: Record<string, string> = {},
  { discovery = "client" }: TestMeshOptions = {},
): Promise<TestMesh> {
  const dataDir = mkdtempSync(join(tmpdir(), "ftgo-mesh-"));
  const started: RunningService[] = [];
  let nats: NatsServerHandle | undefined;
  let serverSide: ServerSideDiscovery | undefined;
  let database: StartedMeshDatabase | undefined;
  const stopAll = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
    await serverSide?.stop();
    await nats?.stop();
    await database?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    database = await startMeshDatabase(testDatabaseEngine(), dataDir);
    nats = await startNatsServer();
    if (discovery === "server") serverSide = await startServerSideDiscovery();
    const env = {
      PORT: "0",
      DATA_DIR: dataDir,
      NATS_URL: nats.url,
      LOG_LEVEL: "silent",
      ...serverSide?.env,
      ...database.env,
      ...extraEnv,
    };
    const log = silentLogger();
    const track = async (name: ServiceName, starting: Promise<RunningService>) => {
      const service = await starting;
      started.push(service);
      if (!serverSide) return service;
      const registered = await registerWithRouter(serverSide, name, service);
      started[started.indexOf(service)] = registered;
      return registered;
    };
    const kitchen = await track("kitchen", startKitchen(loadKitchenConfig(env), log));
    const [consumer, accounting, delivery, order] = await Promise.all([
      track("consumer", startConsumer(loadConsumerConfig(env), log)),
      track("accounting", startAccounting(loadAccountingConfig(env), log)),
      track("delivery", startDelivery(loadDeliveryConfig(env), log)),
      track("order", startOrder(loadOrderConfig(env), log)),
    ]);
    const services = { order, consumer, kitchen, accounting, delivery };
    if (serverSide) await routedByRouter(serverSide, services);
    return { ...services, dataDir, database, nats, serverSide, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
