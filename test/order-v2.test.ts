// ftgo.order.v2 end to end, beside v1, in both saga modes: five real services, a real nats-server. A v2
// order runs the same sagas as a v1 one and ends the same way in every participant; what only v2 knows
// (delivery, the kitchen's notes) survives v1 calls on the same order; v2's two reasons say what v1's one
// said. And the retry policy reads CreateOrder's idempotency level from each version's descriptor: v2's
// is retried through a lost reply and still creates one order, v1's is never retried.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderService as OrderServiceV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2, OrderState, PriceSource } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { type OrderV2Client, orderV2Client } from "@ftgo/harness/order-v2-client.js";
import { startReplyLosingProxy } from "@ftgo/harness/reply-losing-proxy.js";
import {
  orderV2Reaches,
  placeOrderOverGrpcV2 as placeOrder,
  sagaReaches,
  TEST_DELIVERY,
} from "@ftgo/harness/saga-over-grpc.js";
import { createMeshClient, createRegistry, DEFAULT_CALL_POLICY, SAGA_MODES, silentLogger } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe.each(SAGA_MODES)("SAGA_MODE=%s", (mode) => {
  let mesh: TestMesh;
  let clients: MeshClients;
  let v2: OrderV2Client;

  beforeAll(async () => {
    mesh = await startTestMesh({ SAGA_MODE: mode });
    clients = meshClients(mesh);
    v2 = orderV2Client(mesh.order.address);
  });
  afterAll(async () => {
    v2?.close();
    clients?.close();
    await mesh?.stop();
  });

  /** What v2 added to the order placeOrder makes: these must come back unchanged whatever happens to it. */
  const v2Only = (order: { delivery?: unknown; lineItems: { specialInstructions: string }[] } | undefined) => ({
    delivery: order?.delivery,
    instructions: order?.lineItems.map((line) => line.specialInstructions),
  });
  const KEPT = {
    delivery: expect.objectContaining({ address: expect.objectContaining(TEST_DELIVERY.address) }),
    instructions: ["no peanuts", ""],
  };

  it("approves a v2 order: every participant ends as for a v1 order, and the order keeps its delivery", async () => {
    const order = await placeOrder(v2.orders, "c-1001");
    expect(order.state).toBe(OrderState.APPROVAL_PENDING);
    await sagaReaches(clients, order.orderId, {
      order: "APPROVED",
      reason: "",
      ticket: "AWAITING_ACCEPTANCE",
      authorization: "AUTHORIZED",
    });
    const { order: approved } = await v2.orders.getOrder({ orderId: order.orderId });
    expect(approved).toMatchObject({ state: OrderState.APPROVED, rejectionReason: "", cancelRefusalReason: "" });
    expect(approved?.priceSource).toBe(PriceSource.CURRENT_MENU);
    expect(v2Only(approved)).toEqual(KEPT);
  });

  it("rejects a v2 order whose card is declined, saying why in rejection_reason", async () => {
    const order = await placeOrder(v2.orders, "c-1002");
    const rejected = await orderV2Reaches(v2.orders, order.orderId, new Set([OrderState.REJECTED]));
    expect(rejected).toMatchObject({ rejectionReason: "card ending 0002 was declined", cancelRefusalReason: "" });
    // v1 still reads the same reason in its one field.
    expect((await clients.order.getOrder({ orderId: order.orderId })).order?.reason).toBe(
      "card ending 0002 was declined",
    );
  });

  it("cancels an APPROVED v2 order through v1, and v2 still reads its delivery and notes", async () => {
    const order = await placeOrder(v2.orders, "c-1001");
    await orderV2Reaches(v2.orders, order.orderId, new Set([OrderState.APPROVED]));
    const { order: cancelling } = await clients.order.cancelOrder({ orderId: order.orderId });
    expect(cancelling?.state).toBe(OrderState.CANCEL_PENDING);
    await sagaReaches(clients, order.orderId, {
      order: "CANCELLED",
      reason: "",
      ticket: "CANCELLED",
      authorization: "REVERSED",
    });
    const { order: cancelled } = await v2.orders.getOrder({ orderId: order.orderId });
    expect(cancelled?.state).toBe(OrderState.CANCELLED);
    expect(v2Only(cancelled)).toEqual(KEPT);
    expect(cancelled?.lineItems).toEqual(order.lineItems);
  });

  it("shows why a cancel was refused in cancel_refusal_reason", async () => {
    const order = await placeOrder(v2.orders, "c-1001");
    await orderV2Reaches(v2.orders, order.orderId, new Set([OrderState.APPROVED]));
    await clients.kitchen.acceptTicket({ orderId: order.orderId });
    await v2.orders.cancelOrder({ orderId: order.orderId });
    await sagaReaches(clients, order.orderId, {
      order: "APPROVED",
      reason: "the restaurant has accepted the ticket",
      ticket: "ACCEPTED",
      authorization: "AUTHORIZED",
    });
    const { order: refused } = await v2.orders.getOrder({ orderId: order.orderId });
    expect(refused).toMatchObject({
      state: OrderState.APPROVED,
      rejectionReason: "",
      cancelRefusalReason: "the restaurant has accepted the ticket",
    });
    expect(v2Only(refused)).toEqual(KEPT);
  });

  describe("CreateOrder through a reply lost on its way back", () => {
    it("retries v2's (IDEMPOTENT) and gets the order the lost reply carried: one order, one saga", async () => {
      const { proxy, orders, close } = await behindLosingProxy(OrderServiceV2, mesh.order.address);
      try {
        const idempotencyKey = randomUUID();
        proxy.loseNextReplies(1);
        const order = await placeOrder(orders, "c-1001", { idempotencyKey });
        expect(proxy.forwarded("CreateOrder")).toBe(2); // the first attempt, and the retry
        const [lost] = proxy.lost as { order?: { orderId: string } }[];
        expect(order.orderId).toBe(lost?.order?.orderId);
        const { orders: listed } = await v2.orders.listOrders({ consumerId: "c-1001", pageSize: 500 });
        expect(listed.filter((o) => o.idempotencyKey === idempotencyKey).map((o) => o.orderId)).toEqual([
          order.orderId,
        ]);
        await sagaReaches(clients, order.orderId, {
          order: "APPROVED",
          reason: "",
          ticket: "AWAITING_ACCEPTANCE",
          authorization: "AUTHORIZED",
        });
      } finally {
        await close();
      }
    });

    it("never retries v1's: the caller sees UNAVAILABLE, though the order was created", async () => {
      const { proxy, orders, close } = await behindLosingProxy(OrderServiceV1, mesh.order.address);
      try {
        proxy.loseNextReplies(1);
        const error = await orders
          .createOrder({ consumerId: "c-1001", restaurantId: "r-1", lineItems: [{ menuItemId: "m-1", quantity: 1 }] })
          .then(
            () => undefined,
            (e: unknown) => ConnectError.from(e),
          );
        expect(error?.code).toBe(Code.Unavailable);
        expect(proxy.forwarded("CreateOrder")).toBe(1);
        // What a blind retry of v1 would have doubled: the order exists, and its caller does not know it.
        const [lost] = proxy.lost as { order?: { orderId: string } }[];
        const { order } = await clients.order.getOrder({ orderId: lost?.order?.orderId ?? "" });
        expect(order?.orderId).toBe(lost?.order?.orderId);
      } finally {
        await close();
      }
    });
  });
});

/**
 * A mesh client of Order under the default call policy (3 attempts), as another service would hold one,
 * that finds Order only behind a reply-losing proxy.
 */
async function behindLosingProxy<S extends typeof OrderServiceV1 | typeof OrderServiceV2>(service: S, order: string) {
  const log = silentLogger();
  const proxy = await startReplyLosingProxy(service, order);
  const registry = await createRegistry(
    {
      registry: "static",
      ttlMs: 10_000,
      heartbeatMs: 3_333,
      staticInstances: [
        { service: "order", id: "order-1", address: "127.0.0.1", port: proxy.server.port, version: "test", tags: [] },
      ],
    },
    { log },
  );
  const orders = createMeshClient(service, { target: "order", registry, policy: DEFAULT_CALL_POLICY, log });
  return {
    proxy,
    orders,
    async close() {
      orders.close();
      await registry.close();
      await proxy.close();
    },
  };
}
