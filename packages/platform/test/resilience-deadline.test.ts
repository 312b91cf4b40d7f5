import { Code, type ConnectError, type HandlerContext } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { describe, expect, it } from "vitest";
import { runInCall } from "../src/grpc/call-context.js";
import { waitFor } from "../src/testing/wait.js";
import { RESTAURANT, rejection } from "./grpc-fixtures.js";
import { instanceOf, testPolicy, useMesh } from "./resilience-fixtures.js";

/** What the downstream handler saw of its call: the budget it was given and how the call ended for it. */
function observingHandler() {
  const seen: { timeoutMs?: number; signal?: AbortSignal } = {};
  const getMenu = async (_request: unknown, ctx: HandlerContext) => {
    seen.timeoutMs = ctx.timeoutMs();
    seen.signal = ctx.signal;
    // Slow work that stops when the call is over, as a well-behaved handler's does.
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    return { restaurant: RESTAURANT };
  };
  return { seen, getMenu };
}

describe("createMeshClient: deadlines", () => {
  const mesh = useMesh();

  it("fails with DEADLINE_EXCEEDED at the caller's deadline, and the downstream handler sees the call end", async () => {
    const handler = observingHandler();
    const downstream = await mesh.serveKitchen(0, { getMenu: handler.getMenu });
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ timeoutMs: 5_000 }));
    await kitchen.getRestaurant({ restaurantId: "r-1" }); // connected and listed
    await downstream.admin.setFault({ fault: { method: "*", latencyMs: 100 } });

    const startedAt = Date.now();
    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 400 }));
    const elapsedMs = Date.now() - startedAt;

    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect(elapsedMs).toBeGreaterThanOrEqual(390);
    expect(elapsedMs).toBeLessThan(1_500);
    // The budget that arrived downstream is what was left of the caller's, after the 100 ms of latency.
    expect(handler.seen.timeoutMs).toBeGreaterThan(0);
    expect(handler.seen.timeoutMs).toBeLessThanOrEqual(300);
    await waitFor(() => handler.seen.signal?.aborted, { message: "the handler's signal to abort" });
    // The server's deadline is the caller's, counted from when the call arrived, so it ends a little after the
    // caller's: either its own timer ends the call (DEADLINE_EXCEEDED), or the caller's cancellation reaches it
    // first (CANCELLED), as it does on a busy machine. Both end the handler's work at the deadline.
    expect([Code.DeadlineExceeded, Code.Canceled]).toContain(
      (handler.seen.signal?.reason as ConnectError | undefined)?.code,
    );
  });

  it("uses the policy's timeout when the call sets none", async () => {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ timeoutMs: 200 }));
    await downstream.admin.setFault({ fault: { method: "*", hang: true } });

    const startedAt = Date.now();
    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }));

    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
  });

  it("inside a handler, passes on no more than that handler's remaining budget", async () => {
    const handler = observingHandler();
    const downstream = await mesh.serveKitchen(0, { getMenu: handler.getMenu });
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ timeoutMs: 5_000 }));

    // An incoming call with 300 ms left calls the kitchen, whose own policy would allow 5 s.
    const incoming = { requestId: "req-1", deadline: Date.now() + 300, signal: new AbortController().signal };
    const error = await rejection(runInCall(incoming, () => kitchen.getMenu({ restaurantId: "r-1" })));

    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect(handler.seen.timeoutMs).toBeLessThanOrEqual(300);
  });

  it("ends a call waiting in the bulkhead queue at its deadline", async () => {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, testPolicy({ timeoutMs: 5_000, bulkhead: { limit: 1, queue: 1 } }));
    await kitchen.getMenu({ restaurantId: "r-1" });
    await downstream.admin.setFault({ fault: { method: "*", latencyMs: 500 } });

    const running = kitchen.getMenu({ restaurantId: "r-1" });
    let runningEnded = false;
    void running.then(
      () => (runningEnded = true),
      () => (runningEnded = true),
    );
    const queued = await rejection(kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 150 }));

    expect(queued).toMatchObject({ code: Code.DeadlineExceeded });
    // It ended at its own deadline, not when the call ahead of it freed the slot (that one takes 500 ms).
    expect(runningEnded).toBe(false);
    await running;
    // The queued call never started: only the priming call and the running one reached the handler.
    expect(downstream.handled()).toBe(2);
  });
});
