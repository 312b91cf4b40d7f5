// Order Service on a real socket, with a real nats-server and a stand-in Kitchen (a fixed menu, served on
// a real socket too), for the tests of Order's own behaviour; test/ at the root runs the real Kitchen.
// The stand-in can hold GetMenu calls until a test lets them go, to line up calls that price at once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { GetMenuResponseSchema, KitchenService, MenuItemSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  type GrpcServer,
  implement,
  type Logger,
  money,
  NotFoundError,
  type RunningService,
  serveGrpc,
  silentLogger,
} from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll } from "vitest";
import { loadOrderConfig, startOrder } from "../src/app.js";

export const MENU = create(GetMenuResponseSchema, {
  restaurant: { restaurantId: "r-1", name: "Pho Hanoi", open: true },
  menuItems: [
    create(MenuItemSchema, { menuItemId: "m-1", name: "Pho bo", price: money(650) }),
    create(MenuItemSchema, { menuItemId: "m-3", name: "Ca phe sua da", price: money(200) }),
  ],
});

export interface OrderFixture {
  readonly order: RunningService;
  readonly dataDir: string;
  /** GetMenu calls the stand-in Kitchen has received. */
  menuCalls(): number;
  /** Until the returned function is called, GetMenu calls wait (the call counts as received). */
  holdMenus(): () => void;
}

/**
 * Starts the fixture before the file's tests and stops it after them; read it inside tests only. `env`
 * adds to Order's environment (SAGA_MODE=orchestration, say).
 */
export function useOrderService(
  log: Logger = silentLogger(),
  env: Readonly<Record<string, string>> = {},
): OrderFixture {
  let nats: NatsServerHandle | undefined;
  let kitchen: GrpcServer | undefined;
  let order: RunningService | undefined;
  let dataDir: string | undefined;
  let calls = 0;
  let held: Promise<void> | undefined;

  beforeAll(async () => {
    nats = await startNatsServer();
    kitchen = await serveGrpc({
      host: "127.0.0.1",
      port: 0,
      log: silentLogger(),
      services: [
        implement(KitchenService, {
          getRestaurant: () => ({ restaurant: MENU.restaurant }),
          getTicket: noTickets,
          acceptTicket: noTickets,
          watchTickets: noTickets,
          async getMenu(req) {
            calls++;
            await held;
            if (req.restaurantId !== "r-1") throw new NotFoundError(`restaurant ${req.restaurantId} not found`);
            return MENU;
          },
        }),
      ],
    });
    dataDir = mkdtempSync(join(tmpdir(), "order-test-"));
    const config = loadOrderConfig({
      PORT: "0",
      DATA_DIR: dataDir,
      NATS_URL: nats.url,
      REGISTRY: "static",
      STATIC_INSTANCES: `kitchen=${kitchen.address}`,
      ...env,
    });
    order = await startOrder(config, log);
  });

  afterAll(async () => {
    await order?.stop();
    await kitchen?.close();
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    get order() {
      if (!order) throw new Error("useOrderService: read before beforeAll ran");
      return order;
    },
    get dataDir() {
      if (!dataDir) throw new Error("useOrderService: read before beforeAll ran");
      return dataDir;
    },
    menuCalls: () => calls,
    holdMenus() {
      let release = () => {};
      held = new Promise((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
  };
}

function noTickets(): never {
  throw new NotFoundError("the stand-in kitchen has no tickets");
}
