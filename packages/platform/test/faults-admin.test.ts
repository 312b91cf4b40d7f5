import { Code, type ConnectError, type HandlerContext } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { describe, expect, it } from "vitest";
import { createGrpcClient, implement } from "../src/grpc/index.js";
import { waitFor } from "../src/testing/wait.js";
import { fakeKitchen, rejection, useGrpc } from "./grpc-fixtures.js";

const GET_MENU = "/ftgo.kitchen.v1.KitchenService/GetMenu";

describe("AdminService fault injection", () => {
  const grpc = useGrpc();

  /** A kitchen server, a client of it and of its AdminService, and how often GetMenu's handler ran. */
  async function kitchenWithAdmin(getMenu?: (request: unknown, ctx: HandlerContext) => Promise<object>) {
    let handled = 0;
    const kitchen = fakeKitchen();
    const server = await grpc.serve([
      implement(KitchenService, {
        ...kitchen,
        getMenu: (request, ctx) => {
          handled++;
          return getMenu ? getMenu(request, ctx) : kitchen.getMenu(request, ctx);
        },
      }),
    ]);
    const transport = grpc.connect(server);
    return {
      kitchen: createGrpcClient(KitchenService, transport),
      admin: createGrpcClient(AdminService, transport),
      handled: () => handled,
    };
  }

  it("sets, lists and clears faults", async () => {
    const { admin } = await kitchenWithAdmin();

    const { fault } = await admin.setFault({ fault: { method: GET_MENU, latencyMs: 50 } });
    await admin.setFault({ fault: { method: "*", statusCode: Code.Unavailable, probability: 0.5 } });
    expect(fault).toMatchObject({ method: GET_MENU, latencyMs: 50, appliedCount: 0n });

    const listed = await admin.listFaults({});
    expect(
      listed.faults.map(({ method, latencyMs, statusCode, probability }) => ({
        method,
        latencyMs,
        statusCode,
        probability,
      })),
    ).toEqual([
      { method: GET_MENU, latencyMs: 50, statusCode: 0, probability: undefined },
      { method: "*", latencyMs: 0, statusCode: Code.Unavailable, probability: 0.5 },
    ]);

    expect(await admin.clearFaults({ method: "*" })).toMatchObject({ clearedCount: 1 });
    expect(await admin.clearFaults({})).toMatchObject({ clearedCount: 1 });
    expect((await admin.listFaults({})).faults).toEqual([]);
  });

  it("answers with the fault's status instead of running the handler, and counts it", async () => {
    const { kitchen, admin, handled } = await kitchenWithAdmin();
    await admin.setFault({ fault: { method: GET_MENU, statusCode: Code.Unavailable } });

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }));

    expect(error).toMatchObject({ code: Code.Unavailable, rawMessage: `fault injected into ${GET_MENU}` });
    expect(handled()).toBe(0);
    expect((await admin.listFaults({})).faults[0]?.appliedCount).toBe(1n);
    // Other methods of the server are untouched by a method's own fault.
    await expect(kitchen.getRestaurant({ restaurantId: "r-1" })).resolves.toMatchObject({});
  });

  it("affects only the next fail_next calls, then removes itself", async () => {
    const { kitchen, admin, handled } = await kitchenWithAdmin();
    await admin.setFault({ fault: { method: "*", statusCode: Code.Internal, failNext: 2 } });

    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        await kitchen.getMenu({ restaurantId: "r-1" }).then(
          () => "ok",
          (error: ConnectError) => Code[error.code],
        ),
      );
    }

    expect(codes).toEqual(["Internal", "Internal", "ok"]);
    expect(handled()).toBe(1);
    expect((await admin.listFaults({})).faults).toEqual([]);
  });

  it("applies a fault with probability 0 to no call", async () => {
    const { kitchen, admin, handled } = await kitchenWithAdmin();
    await admin.setFault({ fault: { method: "*", statusCode: Code.Unavailable, probability: 0 } });

    for (let i = 0; i < 5; i++) await kitchen.getMenu({ restaurantId: "r-1" });

    expect(handled()).toBe(5);
  });

  it("delays the handler by latency_ms", async () => {
    const { kitchen, admin, handled } = await kitchenWithAdmin();
    await admin.setFault({ fault: { method: GET_MENU, latencyMs: 150 } });

    const startedAt = Date.now();
    await kitchen.getMenu({ restaurantId: "r-1" });

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(handled()).toBe(1);
  });

  it("with hang, never answers: the caller's deadline ends the call", async () => {
    const { kitchen, admin, handled } = await kitchenWithAdmin();
    await admin.setFault({ fault: { method: "*", hang: true } });

    const startedAt = Date.now();
    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 200 }));

    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(180);
    expect(handled()).toBe(0);
    // AdminService itself is never faulted, or a "*" hang would lock out ClearFaults.
    expect(await admin.clearFaults({})).toMatchObject({ clearedCount: 1 });
    await expect(kitchen.getMenu({ restaurantId: "r-1" })).resolves.toMatchObject({});
  });

  it("stops waiting out a latency when the caller gives up", async () => {
    let handlerRan = false;
    const { kitchen, admin } = await kitchenWithAdmin(async () => {
      handlerRan = true;
      return {};
    });
    await admin.setFault({ fault: { method: GET_MENU, latencyMs: 60_000 } });

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 100 }));

    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    // The fault is still counted once, and the handler never runs after the call is over.
    await waitFor(async () => (await admin.listFaults({})).faults[0]?.appliedCount === 1n);
    expect(handlerRan).toBe(false);
  });

  it("rejects a fault that names no method or does nothing", async () => {
    const { admin } = await kitchenWithAdmin();

    await expect(rejection(admin.setFault({ fault: { method: "GetMenu", latencyMs: 1 } }))).resolves.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(rejection(admin.setFault({ fault: { method: "*" } }))).resolves.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: "the fault does nothing: set latency_ms, status_code or hang",
    });
    await expect(rejection(admin.setFault({ fault: { method: "*", statusCode: 99 } }))).resolves.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(
      rejection(admin.setFault({ fault: { method: "*", statusCode: 14, probability: 1.5 } })),
    ).resolves.toMatchObject({ code: Code.InvalidArgument });
  });
});
