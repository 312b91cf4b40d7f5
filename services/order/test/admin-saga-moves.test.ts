// What `npm run trace` reads from Order's database, over AdminService: under orchestration, the messages
// Order sent for an order and the moves of the order's saga. No participant answers here, so the saga's
// first step runs out of time (SAGA_STEP_TIMEOUT_MS) and the order is rejected: two moves to see.
import { randomUUID } from "node:crypto";
import { timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { VerifyConsumerSchema } from "@ftgo/gen/ftgo/consumer/v1/commands_pb.js";
import { OrderService, OrderState } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport, silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KITCHEN_MENU_FALLBACK } from "../src/service.js";
import { useOrderService } from "./order-fixture.js";

const fixture = useOrderService(silentLogger(), { SAGA_MODE: "orchestration", SAGA_STEP_TIMEOUT_MS: "200" });
let transport: GrpcTransport;
let orders: Client<typeof OrderService>;
let admin: Client<typeof AdminService>;

beforeAll(() => {
  transport = createGrpcTransport({ address: fixture.order.address });
  orders = createGrpcClient(OrderService, transport);
  admin = createGrpcClient(AdminService, transport);
});
afterAll(() => transport?.close());

describe("AdminService ListSentMessages on the orchestrator", () => {
  it("returns the order's saga moves beside the commands Order sent", async () => {
    const { order } = await orders.createOrder({
      idempotencyKey: `k-${randomUUID()}`,
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
      delivery: {
        address: { street1: "1 Main St", city: "Oakland", postalCode: "94611" },
        deliverAt: timestampFromDate(new Date("2030-01-01T18:30:00Z")),
      },
    });
    const orderId = order?.orderId ?? "";
    await waitFor(async () => (await orders.getOrder({ orderId })).order?.state === OrderState.REJECTED, {
      message: "the order rejected when its consumer was not verified in time",
    });

    const { service, messages, sagaMoves } = await admin.listSentMessages({ correlationId: orderId });

    expect(service).toBe("order");
    expect(sagaMoves.map(({ sagaType, fromState, toState, note }) => ({ sagaType, fromState, toState, note }))).toEqual(
      [
        { sagaType: "CreateOrderSaga", fromState: "", toState: "VERIFYING_CONSUMER", note: "" },
        { sagaType: "CreateOrderSaga", fromState: "VERIFYING_CONSUMER", toState: "REJECTED", note: "timed out" },
      ],
    );
    const [start, end] = sagaMoves.map(({ time }) => (time ? timestampMs(time) : 0));
    expect(end).toBeGreaterThanOrEqual(start ?? 0);
    const verify = messages.find((message) => message.type === VerifyConsumerSchema.typeName);
    expect(verify).toMatchObject({ causationId: "", replyTo: "ftgo.order.reply" });
    expect(messages.map(({ type }) => type)).toContain("ftgo.order.v1.OrderRejected");
  });

  it("reports Kitchen as a target in GetServerStats, with the fallback of GetMenu", async () => {
    const { service, targets } = await admin.getServerStats({});

    expect(service).toBe("order");
    expect(targets.map(({ target, policy }) => ({ target, fallbacks: policy?.fallbacks }))).toEqual([
      { target: "kitchen", fallbacks: { GetMenu: KITCHEN_MENU_FALLBACK } },
    ]);
  });
});
