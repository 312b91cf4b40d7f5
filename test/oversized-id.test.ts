// Reproduction 1 of issue 10: one CreateOrder with a 1.1 MB consumerId was accepted, its OrderCreated was
// over the broker's max_payload, and the relay retried that outbox row forever, in order, so every later
// order of every partition stayed APPROVAL_PENDING. The contract now declares the id's limit and the
// server refuses the request before anything is stored: the next order settles as usual.

import { Code, ConnectError } from "@connectrpc/connect";
import { OrderService, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { describe, expect, it } from "vitest";

const MB = 1000 * 1000;

const fixture = useSagaMesh();

describe("a CreateOrder with a 1.1 MB consumerId, on a mesh of processes", () => {
  it("is refused with INVALID_ARGUMENT naming consumer_id and its rule, stores nothing, and the next order settles", async () => {
    const { mesh, clients, dbs } = fixture;
    // A careless client (grpcurl -max-msg-sz 8000000) sends what the server's 4 MiB receive limit lets in.
    const transport = createGrpcTransport({ address: mesh.order.address, maxSendMessageBytes: 8 * MB });
    const order = createGrpcClient(OrderService, transport);
    const outboxRows = () => dbs.order.prepare("SELECT count(*) FROM outbox").pluck().get() as number;
    const before = outboxRows();
    try {
      const refused = await order
        .createOrder({
          consumerId: `c-${"1".repeat(1.1 * MB)}`,
          restaurantId: "r-1",
          lineItems: [{ menuItemId: "m-1", quantity: 1 }],
        })
        .then(
          (answer) => answer,
          (err: unknown) => err,
        );

      expect(refused).toBeInstanceOf(ConnectError);
      expect(refused).toMatchObject({
        code: Code.InvalidArgument,
        rawMessage: "consumer_id: must be at most 64 characters [string.max_len]",
      });
      expect(outboxRows()).toBe(before);
    } finally {
      transport.close();
    }

    const placed = await clients.order.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
    });
    const orderId = placed.order?.orderId ?? "";
    const settled = await waitFor(
      async () => {
        const { order: now } = await clients.order.getOrder({ orderId });
        return now?.state === OrderState.APPROVED ? now : undefined;
      },
      { timeoutMs: 20_000, message: () => `order ${orderId} APPROVED\n${mesh.output()}` },
    );
    expect(settled.state).toBe(OrderState.APPROVED);
    expect(mesh.crashes()).toEqual([]);
  }, 60_000);
});
