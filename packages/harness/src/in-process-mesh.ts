import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAccountingConfig, startAccounting } from "@ftgo/accounting";
import { loadConsumerConfig, startConsumer } from "@ftgo/consumer";
import { loadDeliveryConfig, startDelivery } from "@ftgo/delivery";
import { loadKitchenConfig, startKitchen } from "@ftgo/kitchen";
import { loadOrderConfig, startOrder } from "@ftgo/order";
import { type RunningService, silentLogger } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";

/** The five services of the mesh, running in this process on free ports, each with its own database. */
export interface TestMesh {
  readonly order: RunningService;
  readonly consumer: RunningService;
  readonly kitchen: RunningService;
  readonly accounting: RunningService;
  readonly delivery: RunningService;
  readonly dataDir: string;
  /** The mesh's own nats-server: durable consumer names are per server, so meshes never share one. */
  readonly nats: NatsServerHandle;
  stop(): Promise<void>;
}

/**
 * Starts every service in-process on port 0 (real gRPC servers on real sockets, real SQLite files in a
 * temp folder) with a nats-server of its own, Kitchen first because Order prices orders from it.
 * `stop()` stops them, then NATS, and removes the folder.
 */
export async function startTestMesh(extraEnv: Record<string, string> = {}): Promise<TestMesh> {
  const dataDir = mkdtempSync(join(tmpdir(), "ftgo-mesh-"));
  const nats = await startNatsServer();
  const env = { PORT: "0", DATA_DIR: dataDir, NATS_URL: nats.url, LOG_LEVEL: "silent", ...extraEnv };
  const log = silentLogger();
  const started: RunningService[] = [];
  const track = async (service: Promise<RunningService>) => {
    const running = await service;
    started.push(running);
    return running;
  };
  try {
    const kitchen = await track(startKitchen(loadKitchenConfig(env), log));
    const [consumer, accounting, delivery, order] = await Promise.all([
      track(startConsumer(loadConsumerConfig(env), log)),
      track(startAccounting(loadAccountingConfig(env), log)),
      track(startDelivery(loadDeliveryConfig(env), log)),
      track(startOrder(loadOrderConfig(env), log)),
    ]);
    return {
      order,
      consumer,
      kitchen,
      accounting,
      delivery,
      dataDir,
      nats,
      async stop() {
        await Promise.all(started.map((service) => service.stop()));
        await nats.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((service) => service.stop()));
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
