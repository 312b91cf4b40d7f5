// Kitchen as the exercises' checks run it: on a real socket, with a nats-server and a SQLite file of its own
// under the check's scratch folder, and tickets already waiting for the restaurant to accept them.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadKitchenConfig, startKitchen } from "@ftgo/kitchen";
import { openKitchenStore } from "@ftgo/kitchen/store";
import { createGrpcTransport, type GrpcTransport, silentLogger } from "@ftgo/platform";
import { startNatsServer } from "@ftgo/platform/testing";

export interface KitchenUnderCheck {
  readonly address: string;
  readonly transport: GrpcTransport;
  /** Kitchen's database file, readable while it runs (WAL). */
  readonly dbFile: string;
  /** Stops Kitchen and NATS and removes the folder. */
  stop(): Promise<void>;
}

/** Starts Kitchen with a ticket AWAITING_ACCEPTANCE at restaurant r-1 for each of `orderIds`. */
export async function kitchenWithTickets(scratch: string, orderIds: readonly string[]): Promise<KitchenUnderCheck> {
  const dataDir = mkdtempSync(join(scratch, "kitchen-"));
  const nats = await startNatsServer();
  const env = { PORT: "0", DATA_DIR: dataDir, NATS_URL: nats.url, LOG_LEVEL: "silent" };
  const kitchen = await startKitchen(loadKitchenConfig(env), silentLogger()).catch(async (err: unknown) => {
    await nats.stop();
    throw err;
  });
  const dbFile = join(dataDir, "kitchen.db");
  // A second connection to the same file: the saga that would create these tickets is not the point here.
  const store = openKitchenStore(dbFile);
  for (const orderId of orderIds) {
    const lineItems = [{ menuItemId: "m-1", name: "Pho bo", quantity: 1 }];
    store.insertTicket({ orderId, restaurantId: "r-1", state: "AWAITING_ACCEPTANCE", reason: "", lineItems });
  }
  store.close();
  const transport = createGrpcTransport({ address: kitchen.address });
  return {
    address: kitchen.address,
    transport,
    dbFile,
    async stop() {
      transport.close();
      await kitchen.stop();
      await nats.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
