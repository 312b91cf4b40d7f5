// ftgo.order.v2 beside v1 on one Order Service, over one store: v2's CreateOrder keeps the delivery and the
// kitchen's notes and is idempotent on its key; v1 sees v2's orders without what only v2 knows, and v2
// sees v1's with v1's defaults.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { OrderService as OrderServiceV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import {
  type CreateOrderRequestSchema,
  OrderService as OrderServiceV2,
  OrderState,
  PriceSource,
} from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useOrderService } from "./order-fixture.js";

const fixture = useOrderService();
let transport: GrpcTransport;
let v2: Client<typeof OrderServiceV2>;
let v1: Client<typeof OrderServiceV1>;
let db: Database.Database;

beforeAll(() => {
  transport = createGrpcTransport({ address: fixture.order.address });
  v2 = createGrpcClient(OrderServiceV2, transport);
  v1 = createGrpcClient(OrderServiceV1, transport);
  db = new Database(join(fixture.dataDir, "order.db"), { readonly: true });
});
afterAll(() => {
  db?.close();
  transport?.close();
});

const DELIVERY = {
  address: { street1: "1 Main St", street2: "Apt 4", city: "Oakland", postalCode: "94611" },
  deliverAt: timestampFromDate(new Date("2030-01-01T18:30:00Z")),
};

type CreateOrder = Exclude<MessageInitShape<typeof CreateOrderRequestSchema>, { $typeName: string }> & {
  idempotencyKey: string;
};

/** A v2 CreateOrder with a fresh key: 2× m-1 "no peanuts" + 1× m-3 at r-1, to 1 Main St; `overrides` replace fields. */
function request(overrides: object = {}): CreateOrder {
  return {
    idempotencyKey: `k-${randomUUID()}`,
    consumerId: "c-1001",
    restaurantId: "r-1",
    lineItems: [
      { menuItemId: "m-1", quantity: 2, specialInstructions: "no peanuts" },
      { menuItemId: "m-3", quantity: 1 },
    ],
    delivery: DELIVERY,
    ...overrides,
  };
}

async function create(req = request()) {
  const { order } = await v2.createOrder(req);
  if (!order) throw new Error("CreateOrder answered without an order");
  return order;
}

/** The OrderCreated events in the outbox for `orderId`, decoded. */
function orderCreatedOf(orderId: string) {
  return db
    .prepare<[string], { payload: Buffer }>(
      "SELECT payload FROM outbox WHERE correlation_id = ? AND type = 'ftgo.order.v1.OrderCreated'",
    )
    .all(orderId)
    .map((row) => fromBinary(OrderCreatedSchema, row.payload));
}

const ordersWithKey = (key: string) =>
  db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM orders WHERE idempotency_key = ?").get(key)?.n;

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return err;
}

describe("v2 createOrder", () => {
  it("prices the order and keeps its delivery and each line's special instructions", async () => {
    const req = request();
    const order = await create(req);
    expect(order.state).toBe(OrderState.APPROVAL_PENDING);
    expect(order.idempotencyKey).toBe(req.idempotencyKey);
    expect(order.total?.minorUnits).toBe(1500n);
    expect(order.priceSource).toBe(PriceSource.CURRENT_MENU);
    expect(order.delivery?.address).toMatchObject(DELIVERY.address);
    expect(order.delivery?.deliverAt).toEqual(DELIVERY.deliverAt);
    expect(order.lineItems.map((l) => [l.name, l.quantity, l.total?.minorUnits, l.specialInstructions])).toEqual([
      ["Pho bo", 2, 1300n, "no peanuts"],
      ["Ca phe sua da", 1, 200n, ""],
    ]);
    expect((await v2.getOrder({ orderId: order.orderId })).order).toEqual(order);
  });

  it("announces where and when to deliver in OrderCreated; a v1 order's event leaves both unset", async () => {
    const viaV2 = await create();
    const [created] = orderCreatedOf(viaV2.orderId);
    expect(created?.deliveryAddress).toMatchObject(DELIVERY.address);
    expect(created?.deliverAt).toEqual(DELIVERY.deliverAt);
    expect(created?.total?.minorUnits).toBe(1500n);

    const { order: viaV1 } = await v1.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
    });
    const [createdV1] = orderCreatedOf(viaV1?.orderId ?? "");
    expect(createdV1?.orderId).toBe(viaV1?.orderId);
    expect(createdV1?.deliveryAddress).toBeUndefined();
    expect(createdV1?.deliverAt).toBeUndefined();
  });

  it.each([
    [{ idempotencyKey: "" }, "idempotency_key: value is required [required]"],
    [{ delivery: undefined }, "delivery: value is required [required]"],
    [
      { delivery: { address: { street1: "1 Main St", city: "Oakland", postalCode: "" } } },
      "delivery.address.postal_code: value is required [required]",
    ],
    [
      { lineItems: [{ menuItemId: "m-1", quantity: 1, specialInstructions: "x".repeat(201) }] },
      "line_items[0].special_instructions: must be at most 200 characters [string.max_len]",
    ],
  ] as const)("rejects %j with INVALID_ARGUMENT naming the field, storing nothing", async (overrides, message) => {
    const req = request(overrides);
    const err = await rejection(v2.createOrder(req));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
    expect(ordersWithKey(req.idempotencyKey)).toBe(0);
  });
});

describe("v2 createOrder's idempotency_key", () => {
  it("answers a repeat with the first order, as it is now, and starts no second saga", async () => {
    const req = request();
    const first = await create(req);
    const menuCalls = fixture.menuCalls();
    const again = await create(request({ ...req }));
    expect(again).toEqual(first);
    expect(ordersWithKey(req.idempotencyKey)).toBe(1);
    expect(orderCreatedOf(first.orderId)).toHaveLength(1);
    expect(fixture.menuCalls()).toBe(menuCalls); // a repeat is not even priced again
  });

  it("refuses the same key with a different request, naming the key, and changes nothing", async () => {
    const req = request();
    const first = await create(req);
    const err = await rejection(v2.createOrder(request({ ...req, lineItems: [{ menuItemId: "m-3", quantity: 5 }] })));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(
      `idempotency_key: ${req.idempotencyKey} was already used with a different request; use a new key for a new order`,
    );
    expect(ordersWithKey(req.idempotencyKey)).toBe(1);
    expect((await v2.getOrder({ orderId: first.orderId })).order).toEqual(first);
  });

  it("creates one order when two calls with one key are priced at the same time", async () => {
    const req = request();
    const before = fixture.menuCalls();
    const release = fixture.holdMenus();
    const calls = [create(req), create(request({ ...req }))];
    // Both calls are past the first check and wait for Kitchen: only the transaction can tell them apart.
    await waitFor(() => fixture.menuCalls() === before + 2, { timeoutMs: 10_000, message: "both calls priced" });
    release();
    const [a, b] = await Promise.all(calls);
    expect(a?.orderId).toBe(b?.orderId);
    expect(ordersWithKey(req.idempotencyKey)).toBe(1);
    expect(orderCreatedOf(a?.orderId ?? "")).toHaveLength(1);
  });
});

describe("v2 createOrder's idempotency_key, scoped to its consumer", () => {
  const other = () => `c-other-${randomUUID().slice(0, 8)}`;

  it("creates an order for each of two consumers who send one key, and tells neither of the other's", async () => {
    const mine = request();
    const theirs = request({
      idempotencyKey: mine.idempotencyKey,
      consumerId: other(),
      lineItems: [{ menuItemId: "m-3", quantity: 5 }],
    });
    const a = await create(mine);
    const b = await create(theirs); // a different request under the same key: not the other consumer's mistake
    expect([a.state, b.state]).toEqual([OrderState.APPROVAL_PENDING, OrderState.APPROVAL_PENDING]);
    expect(b.orderId).not.toBe(a.orderId);
    expect([a.consumerId, b.consumerId]).toEqual([mine.consumerId, theirs.consumerId]);
    expect([a.idempotencyKey, b.idempotencyKey]).toEqual([mine.idempotencyKey, mine.idempotencyKey]);
    expect(b.total?.minorUnits).toBe(1000n);
    expect(ordersWithKey(mine.idempotencyKey)).toBe(2);
    expect(orderCreatedOf(a.orderId)).toHaveLength(1);
    expect(orderCreatedOf(b.orderId)).toHaveLength(1);
  });

  it("answers each consumer's repeat with that consumer's order, and refuses each one's own different request", async () => {
    const mine = request();
    const theirs = request({ idempotencyKey: mine.idempotencyKey, consumerId: other() });
    const a = await create(mine);
    const b = await create(theirs);
    expect(await create(request({ ...mine }))).toEqual(a);
    expect(await create(request({ ...theirs }))).toEqual(b);
    for (const req of [mine, theirs]) {
      const err = await rejection(v2.createOrder({ ...req, lineItems: [{ menuItemId: "m-1", quantity: 9 }] }));
      expect([err.code, err.rawMessage]).toEqual([
        Code.InvalidArgument,
        `idempotency_key: ${req.idempotencyKey} was already used with a different request; use a new key for a new order`,
      ]);
    }
    expect(ordersWithKey(mine.idempotencyKey)).toBe(2);
  });

  it("creates an order each when two consumers' calls with one key are priced at the same time", async () => {
    const mine = request();
    const theirs = request({ idempotencyKey: mine.idempotencyKey, consumerId: other() });
    const before = fixture.menuCalls();
    const release = fixture.holdMenus();
    const calls = [create(mine), create(theirs)];
    // Both calls are past the first check: the transaction and the index must not take one for the other's repeat.
    await waitFor(() => fixture.menuCalls() === before + 2, { timeoutMs: 10_000, message: "both calls priced" });
    release();
    const [a, b] = await Promise.all(calls);
    expect(a?.orderId).not.toBe(b?.orderId);
    expect([a?.consumerId, b?.consumerId]).toEqual([mine.consumerId, theirs.consumerId]);
    expect(ordersWithKey(mine.idempotencyKey)).toBe(2);
  });
});

describe("v1 beside v2, over one store", () => {
  it("shows a v2 order to v1 without what only v2 knows, and v2 still has all of it", async () => {
    const order = await create();
    const { order: seen } = await v1.getOrder({ orderId: order.orderId });
    expect(seen).toMatchObject({
      orderId: order.orderId,
      consumerId: "c-1001",
      restaurantId: "r-1",
      state: OrderState.APPROVAL_PENDING,
      reason: "",
      pricedFromLastKnownMenu: false,
      total: order.total,
      createTime: order.createTime,
    });
    expect(seen?.lineItems.map((l) => [l.menuItemId, l.quantity, l.total?.minorUnits])).toEqual([
      ["m-1", 2, 1300n],
      ["m-3", 1, 200n],
    ]);
    const listed = await v1.listOrders({ consumerId: "c-1001", pageSize: 500 });
    expect(listed.orders.find((o) => o.orderId === order.orderId)).toEqual(seen);
    expect((await v2.getOrder({ orderId: order.orderId })).order).toEqual(order);
  });

  it("shows a v1 order to v2 with v1's defaults: no key, no delivery, no instructions, priced from the current menu", async () => {
    const { order: placed } = await v1.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-3", quantity: 2 }],
    });
    const { order } = await v2.getOrder({ orderId: placed?.orderId ?? "" });
    expect(order).toMatchObject({
      orderId: placed?.orderId,
      idempotencyKey: "",
      priceSource: PriceSource.CURRENT_MENU,
      state: OrderState.APPROVAL_PENDING,
      rejectionReason: "",
      cancelRefusalReason: "",
    });
    expect(order?.delivery).toBeUndefined();
    expect(order?.lineItems.map((l) => [l.menuItemId, l.quantity, l.specialInstructions])).toEqual([["m-3", 2, ""]]);
  });

  it("refuses a v1 cancel of a pending v2 order as it refuses v1's own", async () => {
    const order = await create();
    const err = await rejection(v1.cancelOrder({ orderId: order.orderId }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect((await v2.getOrder({ orderId: order.orderId })).order).toEqual(order);
  });
});

describe("ListOrders' page tokens, v1 and v2 alike", () => {
  it("pages one listing in either version with the other's tokens, and refuses altered or borrowed ones", async () => {
    const consumerId = `c-pages-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create(request({ consumerId }))).orderId);

    const first = await v2.listOrders({ consumerId, pageSize: 1 });
    const second = await v1.listOrders({ consumerId, pageSize: 1, pageToken: first.nextPageToken });
    const third = await v2.listOrders({ consumerId, pageSize: 1, pageToken: second.nextPageToken });
    expect([first, second, third].flatMap((page) => page.orders.map((o) => o.orderId))).toEqual(ids.toReversed());
    expect(third.nextPageToken).toBe("");

    const token = Buffer.from(first.nextPageToken, "base64url");
    token[token.length - 1] = (token[token.length - 1] ?? 0) ^ 0x80;
    const refusals = [
      v2.listOrders({ consumerId, pageSize: 1, pageToken: token.toString("base64url") }),
      v1.listOrders({ consumerId, pageSize: 1, pageToken: token.toString("base64url") }),
      v2.listOrders({ consumerId: "c-someone-else", pageSize: 1, pageToken: first.nextPageToken }),
      v2.listOrders({ consumerId, pageSize: 1, pageToken: Buffer.from("seq:1").toString("base64url") }),
    ];
    for (const refusal of refusals) {
      const err = await rejection(refusal);
      expect([err.code, err.rawMessage]).toEqual([
        Code.InvalidArgument,
        expect.stringMatching(/^page_token: not a token ListOrders issued for this listing/),
      ]);
    }
  });
});
