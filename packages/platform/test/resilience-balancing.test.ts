import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { describe, expect, it } from "vitest";
import { implement } from "../src/grpc/index.js";
import { waitFor } from "../src/testing/wait.js";
import { rejection } from "./grpc-fixtures.js";
import { instanceOf, testPolicy, useMesh } from "./resilience-fixtures.js";

const notUsed = () => {
  throw new ConnectError("not used by this test", Code.Unimplemented);
};

/** Calls GetMenu `n` times, one after the other; returns the error code of each (or "ok"). */
async function callMenu(kitchen: { getMenu(request: { restaurantId: string }): Promise<unknown> }, n: number) {
  const outcomes: string[] = [];
  for (let i = 0; i < n; i++) {
    outcomes.push(
      await kitchen.getMenu({ restaurantId: "r-1" }).then(
        () => "ok",
        (error: unknown) => Code[ConnectError.from(error).code],
      ),
    );
  }
  return outcomes;
}

describe("createMeshClient: discovery and load balancing", () => {
  const mesh = useMesh();

  it("spreads calls round-robin over the instances the registry lists", async () => {
    const a = await mesh.serveKitchen();
    const b = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a"), instanceOf(b.server, "kitchen-b")]);
    const kitchen = mesh.client(KitchenService, testPolicy());

    expect(await callMenu(kitchen, 10)).toEqual(Array(10).fill("ok"));

    expect([a.handled(), b.handled()]).toEqual([5, 5]);
    expect(kitchen.instances()).toEqual([
      { id: "kitchen-a", address: a.server.address, breaker: "closed", outstanding: 0 },
      { id: "kitchen-b", address: b.server.address, breaker: "closed", outstanding: 0 },
    ]);
  });

  it("follows the registry: an instance that leaves the list gets no more calls", async () => {
    const a = await mesh.serveKitchen();
    const b = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a"), instanceOf(b.server, "kitchen-b")]);
    const kitchen = mesh.client(KitchenService, testPolicy());
    await callMenu(kitchen, 2);

    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a")]);
    await waitFor(() => kitchen.instances().length === 1, { message: "kitchen-b to leave" });
    await callMenu(kitchen, 4);

    expect([a.handled(), b.handled()]).toEqual([5, 1]);
  });

  it("lets calls in flight to an instance that leaves the list finish", async () => {
    const a = await mesh.serveKitchen();
    const b = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a"), instanceOf(b.server, "kitchen-b")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ retry: { attempts: 1 } }));
    await kitchen.getMenu({ restaurantId: "r-1" });
    for (const { admin } of [a, b]) await admin.setFault({ fault: { method: "*", latencyMs: 300 } });

    const calls = [kitchen.getMenu({ restaurantId: "r-1" }), kitchen.getMenu({ restaurantId: "r-1" })];
    await waitFor(() => kitchen.instances().every(({ outstanding }) => outstanding === 1), {
      message: "both in flight",
    });
    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a")]);
    await waitFor(() => kitchen.instances().length === 1, { message: "kitchen-b to leave" });

    await expect(Promise.all(calls)).resolves.toHaveLength(2);
    expect(b.handled()).toBe(1);
  });

  it("passes a server-streaming call through to one instance", async () => {
    const server = await mesh.serve([
      implement(OrderService, {
        createOrder: notUsed,
        getOrder: notUsed,
        listOrders: notUsed,
        cancelOrder: notUsed,
        async *watchOrder({ orderId }) {
          yield { order: { orderId, reason: "first" } };
          yield { order: { orderId, reason: "second" } };
        },
      }),
    ]);
    mesh.registry.set("order", [instanceOf(server, "order-1", "order")]);
    const orders = mesh.client(OrderService, testPolicy(), { target: "order" });

    const received: string[] = [];
    for await (const { order } of orders.watchOrder({ orderId: "o-1" })) received.push(order?.reason ?? "");

    expect(received).toEqual(["first", "second"]);
  });

  it("fails with UNAVAILABLE when the registry lists no instance", async () => {
    const kitchen = mesh.client(KitchenService, testPolicy({ retry: { attempts: 1 } }));

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }));

    expect(error).toMatchObject({ code: Code.Unavailable, rawMessage: "no healthy instance of kitchen" });
  });

  it("moves to the surviving instance after at most the breaker's threshold of failures, and back after half-open", async () => {
    const failures = 3;
    const a = await mesh.serveKitchen();
    const b = await mesh.serveKitchen();
    const port = b.server.port;
    // kitchen-b crashes without deregistering: the registry still lists it, only the breaker can tell.
    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a"), instanceOf(b.server, "kitchen-b")]);
    // Retries off, so that every failure reaches the caller and can be counted.
    const policy = testPolicy({ retry: { attempts: 1 }, breaker: { failures, halfOpenAfterMs: 500 } });
    const kitchen = mesh.client(KitchenService, policy);
    await callMenu(kitchen, 2);

    await b.server.close(0);
    const outcomes = await callMenu(kitchen, 20);

    const failed = outcomes.filter((outcome) => outcome !== "ok");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(failures);
    expect(failed.every((code) => code === "Unavailable")).toBe(true);
    expect(outcomes.slice(-10)).toEqual(Array(10).fill("ok"));
    expect(kitchen.instances().find(({ id }) => id === "kitchen-b")?.breaker).toBe("open");

    // kitchen-b comes back at the same address: a trial call after half-open finds it and closes the breaker.
    const back = await mesh.serveKitchen(port);
    await waitFor(
      async () => {
        await callMenu(kitchen, 1);
        return back.handled() > 0;
      },
      { timeoutMs: 15_000, message: "calls to reach kitchen-b again" },
    );
    expect(kitchen.instances().find(({ id }) => id === "kitchen-b")?.breaker).toBe("closed");
  });

  it("with retries on, the caller sees no failure at all when an instance crashes", async () => {
    const a = await mesh.serveKitchen();
    const b = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(a.server, "kitchen-a"), instanceOf(b.server, "kitchen-b")]);
    const kitchen = mesh.client(KitchenService, testPolicy());
    await callMenu(kitchen, 2);

    await b.server.close(0);

    expect(await callMenu(kitchen, 10)).toEqual(Array(10).fill("ok"));
    expect(a.handled()).toBe(11);
  });
});
