import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { GetMenuResponseSchema, KitchenService, MenuItemSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  createGrpcClient,
  createGrpcTransport,
  type GrpcServer,
  type GrpcTransport,
  implement,
  money,
  NotFoundError,
  type RunningService,
  serveGrpc,
  silentLogger,
} from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrderConfig, startOrder } from "../src/app.js";

// Order prices orders from Kitchen over gRPC. Here Kitchen is a stand-in with a fixed menu, served on a
// real socket, so these tests prove Order's own behaviour; test/ at the root runs the real Kitchen.
const MENU = create(GetMenuResponseSchema, {
  restaurant: { restaurantId: "r-1", name: "Pho Hanoi", open: true },
  menuItems: [
    create(MenuItemSchema, { menuItemId: "m-1", name: "Pho bo", price: money(650) }),
    create(MenuItemSchema, { menuItemId: "m-3", name: "Ca phe sua da", price: money(200) }),
  ],
});

let kitchen: GrpcServer;
let order: RunningService;
let transport: GrpcTransport;
let client: Client<typeof OrderService>;
let dataDir: string;
let nats: NatsServerHandle;

beforeAll(async () => {
  nats = await startNatsServer();
  kitchen = await serveGrpc({
    host: "127.0.0.1",
    port: 0,
    log: silentLogger(),
    services: [
      implement(KitchenService, {
        getRestaurant: () => ({ restaurant: MENU.restaurant }),
        getTicket() {
          throw new NotFoundError("the stand-in kitchen has no tickets");
        },
        acceptTicket() {
          throw new NotFoundError("the stand-in kitchen has no tickets");
        },
        watchTickets() {
          throw new NotFoundError("the stand-in kitchen has no tickets");
        },
        getMenu(req) {
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
    // A static service registry that knows the stand-in kitchen: Order discovers it as it would a real one.
    REGISTRY: "static",
    STATIC_INSTANCES: `kitchen=${kitchen.address}`,
  });
  order = await startOrder(config, silentLogger());
  transport = createGrpcTransport({ address: order.address });
  client = createGrpcClient(OrderService, transport);
});

afterAll(async () => {
  transport?.close();
  await order?.stop();
  await kitchen?.close();
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const consumerId = () => `c-test-${Math.random().toString(36).slice(2)}`;

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return err;
}

describe("createOrder", () => {
  it("prices the line items from the kitchen's menu and stores the order APPROVAL_PENDING", async () => {
    const { order: created } = await client.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [
        { menuItemId: "m-1", quantity: 2 },
        { menuItemId: "m-3", quantity: 1 },
      ],
    });
    expect(created?.state).toBe(OrderState.APPROVAL_PENDING);
    expect(created?.total?.minorUnits).toBe(1500n);
    expect(created?.lineItems.map((l) => [l.name, l.quantity, l.total?.minorUnits])).toEqual([
      ["Pho bo", 2, 1300n],
      ["Ca phe sua da", 1, 200n],
    ]);
    const { order: stored } = await client.getOrder({ orderId: created?.orderId ?? "" });
    expect(stored).toEqual(created);
  });

  it.each([
    [
      { restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] },
      "consumer_id: value is required [required]",
    ],
    [
      { consumerId: "c-1001", lineItems: [{ menuItemId: "m-1", quantity: 1 }] },
      "restaurant_id: value is required [required]",
    ],
    [
      { consumerId: "c-1001", restaurantId: "r-1", lineItems: [] },
      "line_items: must contain at least 1 item(s) [repeated.min_items]",
    ],
    [
      { consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "", quantity: 1 }] },
      "line_items[0].menu_item_id: value is required [required]",
    ],
    [
      {
        consumerId: "c-1001",
        restaurantId: "r-1",
        lineItems: [
          { menuItemId: "m-1", quantity: 1 },
          { menuItemId: "m-3", quantity: 0 },
        ],
      },
      "line_items[1].quantity: must be greater than or equal to 1 and less than or equal to 100 [int32.gte_lte]",
    ],
    [
      { consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: -2 }] },
      "line_items[0].quantity: must be greater than or equal to 1 and less than or equal to 100 [int32.gte_lte]",
    ],
  ])("rejects %j with INVALID_ARGUMENT naming the field", async (request, message) => {
    const err = await rejection(client.createOrder(request));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(message);
  });

  it("answers NOT_FOUND naming restaurant_id for an unknown restaurant", async () => {
    const err = await rejection(
      client.createOrder({
        consumerId: "c-1001",
        restaurantId: "r-404",
        lineItems: [{ menuItemId: "m-1", quantity: 1 }],
      }),
    );
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe("restaurant_id: restaurant r-404 not found");
  });

  it("answers NOT_FOUND naming the line of a menu item the restaurant does not sell", async () => {
    const err = await rejection(
      client.createOrder({
        consumerId: "c-1001",
        restaurantId: "r-1",
        lineItems: [
          { menuItemId: "m-1", quantity: 1 },
          { menuItemId: "m-10", quantity: 1 },
        ],
      }),
    );
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe("line_items[1].menu_item_id: m-10 is not on the menu of restaurant r-1");
  });

  it("stores nothing when the request is rejected", async () => {
    const who = consumerId();
    await rejection(
      client.createOrder({ consumerId: who, restaurantId: "r-1", lineItems: [{ menuItemId: "m-9", quantity: 1 }] }),
    );
    const { orders } = await client.listOrders({ consumerId: who });
    expect(orders).toEqual([]);
  });
});

describe("listOrders", () => {
  it("pages through one consumer's orders, newest first", async () => {
    const who = consumerId();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { order: o } = await client.createOrder({
        consumerId: who,
        restaurantId: "r-1",
        lineItems: [{ menuItemId: "m-1", quantity: i + 1 }],
      });
      ids.push(o?.orderId ?? "");
    }
    const first = await client.listOrders({ consumerId: who, pageSize: 2 });
    expect(first.orders.map((o) => o.orderId)).toEqual([ids[2], ids[1]]);
    expect(first.nextPageToken).not.toBe("");
    const second = await client.listOrders({ consumerId: who, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.orders.map((o) => o.orderId)).toEqual([ids[0]]);
    expect(second.nextPageToken).toBe("");
  });

  it("rejects a page token it did not issue", async () => {
    // Garbage, and the readable cursor tokens once were (the base64 of `seq:<row id>`), which anyone could forge.
    for (const pageToken of ["bm90LWEtdG9rZW4", Buffer.from("seq:1").toString("base64url")]) {
      const err = await rejection(client.listOrders({ pageToken }));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain("page_token: not a token ListOrders issued");
    }
  });
});

describe("getOrder", () => {
  it("answers NOT_FOUND for an unknown order and INVALID_ARGUMENT for an empty id", async () => {
    expect((await rejection(client.getOrder({ orderId: "nope" }))).code).toBe(Code.NotFound);
    const err = await rejection(client.getOrder({ orderId: "" }));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, "order_id: value is required [required]"]);
  });
});

describe("cancelOrder", () => {
  it("refuses with FAILED_PRECONDITION while the order is APPROVAL_PENDING", async () => {
    const { order: o } = await client.createOrder({
      consumerId: consumerId(),
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
    });
    const err = await rejection(client.cancelOrder({ orderId: o?.orderId ?? "" }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("APPROVAL_PENDING");
    expect((await client.getOrder({ orderId: o?.orderId ?? "" })).order?.state).toBe(OrderState.APPROVAL_PENDING);
  });
});

describe("watchOrder", () => {
  it("first sends the order as it is now, and stops when the client goes away", async () => {
    const { order: o } = await client.createOrder({
      consumerId: consumerId(),
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-3", quantity: 2 }],
    });
    const abort = new AbortController();
    const stream = client.watchOrder({ orderId: o?.orderId ?? "" }, { signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.order?.orderId).toBe(o?.orderId);
    expect(first.value?.order?.state).toBe(OrderState.APPROVAL_PENDING);
    abort.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: Code.Canceled });
  });

  it("answers NOT_FOUND for an unknown order", async () => {
    const stream = client.watchOrder({ orderId: "nope" });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.NotFound });
  });
});

describe("when the kitchen is away", () => {
  it("answers UNAVAILABLE and stores nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "order-nokitchen-"));
    // A port nothing listens on: the kitchen client fails fast with UNAVAILABLE.
    const lonely = await startOrder(
      loadOrderConfig({
        PORT: "0",
        DATA_DIR: dir,
        NATS_URL: nats.url,
        REGISTRY: "static",
        STATIC_INSTANCES: "kitchen=127.0.0.1:1", // nothing listens there
        KITCHEN_TIMEOUT_MS: "1000",
      }),
      silentLogger(),
    );
    const t = createGrpcTransport({ address: lonely.address });
    try {
      const c = createGrpcClient(OrderService, t);
      const err = await rejection(
        c.createOrder({ consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] }),
      );
      expect(err.code).toBe(Code.Unavailable);
      expect(err.rawMessage).toContain("kitchen is unavailable");
      expect((await c.listOrders({})).orders).toEqual([]);
    } finally {
      t.close();
      await lonely.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("recovering from an unavailable kitchen", () => {
  it("prices from the last known menu when Kitchen cannot answer, and says so in the order", async () => {
    const adminTransport = createGrpcTransport({ address: kitchen.address });
    const admin = createGrpcClient(AdminService, adminTransport);
    // A priced order leaves r-1's menu behind as the last known one.
    const { order: fresh } = await client.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
    });
    expect(fresh?.pricedFromLastKnownMenu).toBe(false);
    await admin.setFault({
      fault: { method: "/ftgo.kitchen.v1.KitchenService/GetMenu", statusCode: Code.Unavailable },
    });
    try {
      const { order: fallback } = await client.createOrder({
        consumerId: "c-1001",
        restaurantId: "r-1",
        lineItems: [{ menuItemId: "m-1", quantity: 2 }],
      });
      expect(fallback?.pricedFromLastKnownMenu).toBe(true);
      expect(fallback?.total?.minorUnits).toBe(1300n);
      expect(fallback?.state).toBe(OrderState.APPROVAL_PENDING);
      // A restaurant Order has never seen has no last known menu: nothing to stand behind.
      const err = await rejection(
        client.createOrder({
          consumerId: "c-1001",
          restaurantId: "r-7",
          lineItems: [{ menuItemId: "m-1", quantity: 1 }],
        }),
      );
      expect(err.code).toBe(Code.Unavailable);
    } finally {
      await admin.clearFaults({});
      adminTransport.close();
    }
  });
});
