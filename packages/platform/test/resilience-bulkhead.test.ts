import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { describe, expect, it } from "vitest";
import { runInCall } from "../src/grpc/call-context.js";
import { REQUEST_ID_HEADER } from "../src/grpc/index.js";
import { RESTAURANT } from "./grpc-fixtures.js";
import { instanceOf, testPolicy, useMesh } from "./resilience-fixtures.js";

describe("createMeshClient: bulkhead", () => {
  const mesh = useMesh();

  it("runs `limit` calls, queues `queue` more, and fails the rest at once with RESOURCE_EXHAUSTED", async () => {
    const limit = 2;
    const queue = 2;
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ bulkhead: { limit, queue }, timeoutMs: 10_000 }));
    await kitchen.getMenu({ restaurantId: "r-1" }); // connected and listed
    await downstream.admin.setFault({ fault: { method: "*", latencyMs: 200 } });

    const settled: string[] = [];
    const calls = Array.from({ length: limit + queue + 5 }, () =>
      kitchen.getMenu({ restaurantId: "r-1" }).then(
        () => settled.push("ok"),
        (error: unknown) => settled.push(Code[ConnectError.from(error).code]),
      ),
    );
    await Promise.all(calls);

    // The 5 rejections come first: they settle before the first admitted call is past its 200 ms latency.
    expect(settled).toEqual([...Array(5).fill("ResourceExhausted"), ...Array(limit + queue).fill("ok")]);
    expect(downstream.handled()).toBe(1 + limit + queue);
  });

  it("names the target in the rejection", async () => {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ bulkhead: { limit: 1, queue: 0 } }));
    await downstream.admin.setFault({ fault: { method: "*", latencyMs: 100 } });

    const [first, second] = await Promise.allSettled([
      kitchen.getMenu({ restaurantId: "r-1" }),
      kitchen.getMenu({ restaurantId: "r-1" }),
    ]);

    expect(first.status).toBe("fulfilled");
    expect(second).toMatchObject({
      status: "rejected",
      reason: { code: Code.ResourceExhausted, rawMessage: "too many calls to kitchen: 1 in flight and 0 waiting" },
    });
  });

  it("starts a queued call with its own request id, not that of the call that freed the slot", async () => {
    const seen: (string | null)[] = [];
    const downstream = await mesh.serveKitchen(0, {
      getMenu: (_request, ctx) => {
        seen.push(ctx.requestHeader.get(REQUEST_ID_HEADER));
        return { restaurant: RESTAURANT };
      },
    });
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ bulkhead: { limit: 1, queue: 1 } }));
    await downstream.admin.setFault({ fault: { method: "*", latencyMs: 100 } });

    // Two incoming calls of a server, each calling the kitchen: the second waits in the queue.
    const asIfHandling = (requestId: string) =>
      runInCall({ requestId, deadline: undefined, signal: new AbortController().signal }, () =>
        kitchen.getMenu({ restaurantId: "r-1" }),
      );
    await Promise.all([asIfHandling("req-a"), asIfHandling("req-b")]);

    expect(seen).toEqual(["req-a", "req-b"]);
  });
});
