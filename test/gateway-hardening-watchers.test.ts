// Issue 17 §2: many watchers of one order. Order's WatchOrder serves each watcher from its change feed; twenty
// of them on one order must not trip Node's "possible EventEmitter memory leak" warning (MaxListenersExceeded),
// which is what an emitter with a listener per watcher would do past ten.
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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

describe("WatchOrder with many watchers of one order", () => {
  it("serves 20 watchers of one order, every change to each, with no MaxListenersExceededWarning", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    // One controller per watcher, as separate clients have: a shared signal would have its own listener per call.
    const watching = Array.from({ length: 20 }, () => new AbortController());
    try {
      const order = await placeOrderOverGrpc(clients, "c-1001");
      await orderReaches(clients, order.orderId, new Set([OrderState.APPROVED]));
      const seen: OrderState[][] = watching.map(() => []);
      const streams = seen.map(async (states, i) => {
        const stream = clients.order.watchOrder({ orderId: order.orderId }, { signal: watching[i]?.signal });
        for await (const { order } of stream) states.push(order?.state ?? OrderState.UNSPECIFIED);
      });
      await waitFor(() => seen.every((states) => states.length === 1), {
        timeoutMs: 10_000,
        message: "20 watchers in",
      });
      await clients.order.cancelOrder({ orderId: order.orderId });
      await Promise.all(streams);
      for (const states of seen) expect(states.at(-1)).toBe(OrderState.CANCELLED);
      // A warning is emitted on the next tick after the listener that trips it: let one pass.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
    } finally {
      for (const controller of watching) controller.abort();
      process.off("warning", onWarning);
    }
  });
});
