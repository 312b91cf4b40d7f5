// The smallest secure mesh in which an order can be placed and read: a test CA (secure-pki.ts), nats-server
// with TLS and a user per identity, Kitchen and Order in this process each with its own certificate, and a
// gateway in front with the gateway's, all finding each other in the registry on NATS, as `make up` does.
// Consumer, Accounting and Delivery are left out: orders stay APPROVAL_PENDING, which is all these tests need.
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { loadKitchenConfig, startKitchen } from "@ftgo/kitchen";
import { loadOrderConfig, startOrder } from "@ftgo/order";
import { type RunningService, silentLogger } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { createTestPki, type TestPki } from "./secure-pki.js";

export interface SecureOrderMesh {
  readonly pki: TestPki;
  readonly nats: NatsServerHandle;
  readonly kitchen: RunningService;
  readonly order: RunningService;
  readonly gateway: RunningGateway;
  /** The gateway's `http://127.0.0.1:<port>`. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts it all, with learner certificates for `learners` (consumer ids) beside the mesh's identities.
 * `stop()` stops what started, in reverse, and removes the CA and the data folder; a failed start does too.
 */
export async function startSecureOrderMesh(learners: readonly string[] = []): Promise<SecureOrderMesh> {
  const pki = await createTestPki(learners);
  const dataDir = mkdtempSync(join(tmpdir(), "ftgo-secure-"));
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const one of stops.reverse()) await one().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    pki.remove();
  };
  try {
    const nats = await startNatsServer({ pkiDir: pki.dir });
    stops.push(() => nats.stop());
    const base = { PORT: "0", DATA_DIR: dataDir, NATS_URL: nats.url, LOG_LEVEL: "silent" };
    const log = silentLogger();
    const kitchen = await startKitchen(loadKitchenConfig({ ...base, ...pki.env("kitchen") }), log);
    stops.push(() => kitchen.stop());
    const order = await startOrder(loadOrderConfig({ ...base, ...pki.env("order") }), log);
    stops.push(() => order.stop());
    const privateKeyPem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
    const gatewayConfig = loadGatewayConfig({
      ...base,
      JWT_PRIVATE_KEY: privateKeyPem.toString(),
      DEV_SIGN_IN: "1",
      ...pki.env("gateway"),
    });
    const gateway = await startGateway(gatewayConfig, log);
    stops.push(() => gateway.stop());
    return { pki, nats, kitchen, order, gateway, url: `http://127.0.0.1:${gateway.port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
