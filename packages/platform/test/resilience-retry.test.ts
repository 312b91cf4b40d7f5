import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { describe, expect, it } from "vitest";
import { implement } from "../src/grpc/index.js";
import { rejection } from "./grpc-fixtures.js";
import { instanceOf, testPolicy, useMesh } from "./resilience-fixtures.js";

const GET_MENU = "/ftgo.kitchen.v1.KitchenService/GetMenu";

const notUsed = () => {
  throw new ConnectError("not used by this test", Code.Unimplemented);
};

describe("createMeshClient: retries", () => {
  const mesh = useMesh();

  it("retries a transient failure of a NO_SIDE_EFFECTS method, and succeeds", async () => {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ retry: { attempts: 3 } }));
    await downstream.admin.setFault({ fault: { method: GET_MENU, statusCode: Code.Unavailable, failNext: 2 } });

    const menu = await kitchen.getMenu({ restaurantId: "r-1" });

    expect(menu.menuItems).toHaveLength(1);
    // The server saw three requests: two answered by the fault (now used up), the third by the handler.
    expect((await downstream.admin.listFaults({})).faults).toEqual([]);
    expect(downstream.handled()).toBe(1);
  });

  it("gives up after `attempts` attempts with the last failure", async () => {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ retry: { attempts: 3 }, breaker: { failures: 10 } }));
    await downstream.admin.setFault({ fault: { method: GET_MENU, statusCode: Code.Unavailable } });

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }));

    expect(error).toMatchObject({ code: Code.Unavailable, rawMessage: `fault injected into ${GET_MENU}` });
    expect((await downstream.admin.listFaults({})).faults[0]?.appliedCount).toBe(3n);
  });

  it("does not retry an answer, such as NOT_FOUND", async () => {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ retry: { attempts: 3 } }));

    await expect(rejection(kitchen.getMenu({ restaurantId: "nowhere" }))).resolves.toMatchObject({
      code: Code.NotFound,
    });
    expect(downstream.handled()).toBe(1);
  });

  it("never retries a method that does not declare itself safe to repeat (CreateOrder)", async () => {
    let created = 0;
    const server = await mesh.serve([
      implement(OrderService, {
        createOrder: () => {
          created++;
          return { order: { orderId: `o-${created}` } };
        },
        getOrder: notUsed,
        listOrders: notUsed,
        cancelOrder: notUsed,
        watchOrder: notUsed,
      }),
    ]);
    mesh.registry.set("order", [instanceOf(server, "order-1", "order")]);
    const orders = mesh.client(OrderService, testPolicy({ retry: { attempts: 3 } }), { target: "order" });
    const admin = mesh.admin(server);
    await admin.setFault({
      fault: { method: "/ftgo.order.v1.OrderService/CreateOrder", statusCode: Code.Unavailable, failNext: 1 },
    });

    const error = await rejection(orders.createOrder({ consumerId: "c-1", restaurantId: "r-1" }));

    // One request: the fault answered it and is used up; a retry would have reached the handler.
    expect(error).toMatchObject({ code: Code.Unavailable });
    expect((await admin.listFaults({})).faults).toEqual([]);
    expect(created).toBe(0);
  });

  it("retries on another instance than the one that failed", async () => {
    const broken = await mesh.serveKitchen();
    const healthy = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(broken.server, "kitchen-a"), instanceOf(healthy.server, "kitchen-b")]);
    // One retry only, and a breaker that never opens: a retry that went back to kitchen-a would fail the call.
    const kitchen = mesh.client(KitchenService, testPolicy({ retry: { attempts: 2 }, breaker: { failures: 100 } }));
    await broken.admin.setFault({ fault: { method: "*", statusCode: Code.Unavailable } });

    const calls = Array.from({ length: 6 }, () => kitchen.getMenu({ restaurantId: "r-1" }));

    await expect(Promise.all(calls)).resolves.toHaveLength(6);
    expect(healthy.handled()).toBe(6);
  });

  it("cuts an attempt at attemptTimeoutMs, so a hung instance costs one attempt, not the whole deadline", async () => {
    const hung = await mesh.serveKitchen();
    const healthy = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(hung.server, "kitchen-a"), instanceOf(healthy.server, "kitchen-b")]);
    const policy = testPolicy({ timeoutMs: 5_000, attemptTimeoutMs: 150, retry: { attempts: 2 } });
    const kitchen = mesh.client(KitchenService, policy);
    await hung.admin.setFault({ fault: { method: "*", hang: true } });

    const startedAt = Date.now();
    for (let i = 0; i < 4; i++) await kitchen.getMenu({ restaurantId: "r-1" });

    expect(healthy.handled()).toBe(4);
    expect(Date.now() - startedAt).toBeLessThan(2_500);
  });
});
