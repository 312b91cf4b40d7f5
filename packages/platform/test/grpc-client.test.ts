import { setImmediate as nextTurn } from "node:timers/promises";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderService, type WatchOrderRequest } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../src/errors.js";
import { createGrpcClient, currentCall, implement, REQUEST_ID_HEADER } from "../src/grpc/index.js";
import { waitFor } from "../src/testing/wait.js";
import { fakeKitchen, RESTAURANT, rejection, useGrpc } from "./grpc-fixtures.js";

/** Resolves when the handler's call is over: deadline, cancellation or completion. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

const notUsed = () => {
  throw new ConnectError("not used by this test", Code.Unimplemented);
};

/** An order service whose only working method is WatchOrder. */
function watchOnly(watchOrder: (request: WatchOrderRequest, ctx: HandlerContext) => AsyncIterable<object>) {
  return implement(OrderService, {
    createOrder: notUsed,
    getOrder: notUsed,
    listOrders: notUsed,
    cancelOrder: notUsed,
    watchOrder,
  });
}

describe("createGrpcClient", () => {
  const grpc = useGrpc();

  it("fails with DEADLINE_EXCEEDED at its deadline, and the handler's signal aborts", async () => {
    let handlerSignal: AbortSignal | undefined;
    const getMenu = async (_request: unknown, ctx: HandlerContext) => {
      handlerSignal = ctx.signal;
      await untilAborted(ctx.signal);
      return {};
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const startedAt = Date.now();
    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 200 }));
    const elapsedMs = Date.now() - startedAt;

    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect(elapsedMs).toBeGreaterThanOrEqual(180);
    expect(elapsedMs).toBeLessThan(2000);
    await waitFor(() => handlerSignal?.aborted, { message: "handler signal aborted" });
    // The server's deadline is the caller's, counted from when the call arrived, so it ends a little after the
    // caller's: either its own timer ends the call (DEADLINE_EXCEEDED), or the caller's cancellation reaches it
    // first (CANCELLED), as it does on a busy machine. Both end the handler's work at the deadline.
    expect([Code.DeadlineExceeded, Code.Canceled]).toContain((handlerSignal?.reason as ConnectError | undefined)?.code);
  });

  it("applies the transport's default timeout when the call sets none", async () => {
    const getMenu = async (_request: unknown, ctx: HandlerContext) => {
      await untilAborted(ctx.signal);
      return {};
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server, { defaultTimeoutMs: 100 }));

    await expect(rejection(kitchen.getMenu({ restaurantId: "r-1" }))).resolves.toMatchObject({
      code: Code.DeadlineExceeded,
    });
  });

  it("cancels the call when the caller's signal aborts, and the handler sees it", async () => {
    let handlerSignal: AbortSignal | undefined;
    const getMenu = async (_request: unknown, ctx: HandlerContext) => {
      handlerSignal = ctx.signal;
      await untilAborted(ctx.signal);
      return {};
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));
    const caller = new AbortController();

    const call = rejection(kitchen.getMenu({ restaurantId: "r-1" }, { signal: caller.signal }));
    await waitFor(() => handlerSignal, { message: "handler started" });
    caller.abort();

    await expect(call).resolves.toMatchObject({ code: Code.Canceled });
    await waitFor(() => handlerSignal?.aborted, { message: "handler signal aborted" });
    expect(handlerSignal?.reason).toMatchObject({ code: Code.Canceled });
  });

  describe("inside a handler", () => {
    /** A kitchen whose GetMenu asks a second kitchen for the restaurant: one hop of the mesh. */
    async function twoHops(getRestaurant: ReturnType<typeof fakeKitchen>["getRestaurant"]) {
      const downstream = await grpc.serve([implement(KitchenService, fakeKitchen({ getRestaurant }))]);
      const downstreamClient = createGrpcClient(KitchenService, grpc.connect(downstream));
      const getMenu = async ({ restaurantId }: { restaurantId: string }) => {
        const { restaurant } = await downstreamClient.getRestaurant({ restaurantId });
        return { restaurant };
      };
      const upstream = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
      return createGrpcClient(KitchenService, grpc.connect(upstream));
    }

    it("gives a nested call no more than the remaining budget, and the same request id", async () => {
      let seen: { timeoutMs: number | undefined; requestId: string | null; current: unknown } | undefined;
      const kitchen = await twoHops((_request, ctx) => {
        seen = {
          timeoutMs: ctx.timeoutMs(),
          requestId: ctx.requestHeader.get(REQUEST_ID_HEADER),
          current: currentCall()?.requestId,
        };
        return { restaurant: RESTAURANT };
      });

      // The downstream client's own default timeout is 5000 ms; the upstream caller allows 1000.
      await kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 1000, headers: { [REQUEST_ID_HEADER]: "req-42" } });

      expect(seen?.timeoutMs).toBeGreaterThan(0);
      expect(seen?.timeoutMs).toBeLessThanOrEqual(1000);
      expect(seen?.requestId).toBe("req-42");
      expect(seen?.current).toBe("req-42");
    });

    it("cancels the nested call when the outer caller cancels", async () => {
      let downstreamSignal: AbortSignal | undefined;
      const kitchen = await twoHops(async (_request, ctx) => {
        downstreamSignal = ctx.signal;
        await untilAborted(ctx.signal);
        return {};
      });
      const caller = new AbortController();

      const call = rejection(kitchen.getMenu({ restaurantId: "r-1" }, { signal: caller.signal }));
      await waitFor(() => downstreamSignal, { message: "downstream handler started" });
      caller.abort();

      await expect(call).resolves.toMatchObject({ code: Code.Canceled });
      await waitFor(() => downstreamSignal?.aborted, { message: "downstream signal aborted" });
    });
  });

  describe("server streaming", () => {
    it("stops the handler's iterator when the client leaves early", async () => {
      let returned = false;
      let handlerSignal: AbortSignal | undefined;
      const server = await grpc.serve([
        watchOnly(async function* ({ orderId }, ctx) {
          handlerSignal = ctx.signal;
          try {
            for (let version = 1; ; version++) {
              yield { order: { orderId, reason: `version ${version}` } };
              await nextTurn(); // pacing only: lets the socket breathe between updates
            }
          } finally {
            returned = true;
          }
        }),
      ]);
      const orders = createGrpcClient(OrderService, grpc.connect(server));

      const received: string[] = [];
      for await (const update of orders.watchOrder({ orderId: "o-1" })) {
        received.push(`${update.order?.orderId} ${update.order?.reason}`);
        if (received.length === 2) break;
      }

      expect(received).toEqual(["o-1 version 1", "o-1 version 2"]);
      await waitFor(() => returned, { message: "handler iterator returned" });
      expect(handlerSignal?.aborted).toBe(true);
    });

    it("delivers the messages before a failure, then the failure's status", async () => {
      const server = await grpc.serve([
        watchOnly(async function* ({ orderId }) {
          yield { order: { orderId } };
          throw new NotFoundError(`order ${orderId} was deleted`);
        }),
      ]);
      const orders = createGrpcClient(OrderService, grpc.connect(server));

      const received: string[] = [];
      const error = await rejection(
        (async () => {
          for await (const update of orders.watchOrder({ orderId: "o-2" })) received.push(update.order?.orderId ?? "");
        })(),
      );

      expect(received).toEqual(["o-2"]);
      expect(error).toMatchObject({ code: Code.NotFound, rawMessage: "order o-2 was deleted" });
    });
  });
});
