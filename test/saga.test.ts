// The Create Order and Cancel Order sagas by choreography, end to end: five real services, a real
// nats-server, every path of the seed ending in a terminal state in every participant.
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshClients, meshClients } from "./support/clients.js";
import { startTestMesh, type TestMesh } from "./support/mesh.js";
import { orderReaches, placeOrder, sagaSettles } from "./support/saga.js";

let mesh: TestMesh;
let clients: MeshClients;

beforeAll(async () => {
  mesh = await startTestMesh();
  clients = meshClients(mesh);
});
afterAll(async () => {
  clients?.close();
  await mesh?.stop();
});

describe("Create Order saga", () => {
  it("approves the order of an active consumer whose card pays, at an open restaurant", async () => {
    const order = await placeOrder(clients, "c-1001");
    expect(order.state).toBe(OrderState.APPROVAL_PENDING);
    expect(
      await sagaSettles(clients, order.orderId, {
        order: "APPROVED",
        reason: "",
        ticket: "AWAITING_ACCEPTANCE",
        authorization: "AUTHORIZED",
      }),
    ).toBeTruthy();
  });

  // The seed's compensation paths: who orders where, and how every participant must end.
  it.each([
    ["the card is declined", "c-1002", "r-1", "card ending 0002 was declined", "DECLINED"],
    ["consumer verification fails", "c-1003", "r-1", "consumer c-1003 is suspended", "CANCELLED"],
    ["the consumer is unknown", "c-9999", "r-1", "consumer c-9999 not found", "CANCELLED"],
    ["ticket creation fails (closed restaurant)", "c-1001", "r-2", "restaurant r-2 is closed", "CANCELLED"],
  ])(
    "rejects the order when %s, compensating the earlier steps",
    async (_, consumerId, restaurantId, reason, authorization) => {
      const order = await placeOrder(clients, consumerId, restaurantId);
      await sagaSettles(clients, order.orderId, {
        order: "REJECTED",
        reason,
        ticket: "CREATE_REJECTED",
        authorization,
      });
    },
  );

  it("streams every state change to a WatchOrder client", async () => {
    const order = await placeOrder(clients, "c-1001");
    const seen: string[] = [];
    for await (const { order: update } of clients.order.watchOrder({ orderId: order.orderId })) {
      seen.push(OrderState[update?.state ?? 0]);
      if (update?.state === OrderState.APPROVED) break;
    }
    // It may connect after the approval already happened: then the current state is all there is to see.
    expect(seen.at(-1)).toBe("APPROVED");
    expect(seen.every((state) => state === "APPROVAL_PENDING" || state === "APPROVED")).toBe(true);
  });
});

describe("Cancel Order saga", () => {
  it("cancels an approved order: ticket cancelled, charge reversed", async () => {
    const order = await placeOrder(clients, "c-1001");
    await orderReaches(clients, order.orderId, new Set([OrderState.APPROVED]));
    const { order: cancelling } = await clients.order.cancelOrder({ orderId: order.orderId });
    expect(cancelling?.state).toBe(OrderState.CANCEL_PENDING);
    await sagaSettles(clients, order.orderId, {
      order: "CANCELLED",
      reason: "",
      ticket: "CANCELLED",
      authorization: "REVERSED",
    });
  });

  it("refuses once the restaurant has accepted the ticket: the order returns to APPROVED with the reason", async () => {
    const order = await placeOrder(clients, "c-1001");
    await sagaSettles(clients, order.orderId, {
      order: "APPROVED",
      reason: "",
      ticket: "AWAITING_ACCEPTANCE",
      authorization: "AUTHORIZED",
    });
    await clients.kitchen.acceptTicket({ orderId: order.orderId });
    await clients.order.cancelOrder({ orderId: order.orderId });
    await sagaSettles(clients, order.orderId, {
      order: "APPROVED",
      reason: "the restaurant has accepted the ticket",
      ticket: "ACCEPTED",
      authorization: "AUTHORIZED",
    });
  });

  it("answers FAILED_PRECONDITION for an order that is not APPROVED", async () => {
    const order = await placeOrder(clients, "c-1002");
    await orderReaches(clients, order.orderId);
    const err = await clients.order.cancelOrder({ orderId: order.orderId }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.FailedPrecondition });
    expect((err as ConnectError).rawMessage).toContain("REJECTED");
  });
});
