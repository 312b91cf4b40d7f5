// GetServerStats over real sockets: a server that calls a real kitchen through a mesh client, while the
// kitchen fails on purpose (its AdminService's SetFault), reports the kitchen's breaker opening, the
// policy it was given and the bulkhead it fills. A server with no outbox and no NATS says so too.
import { Code } from "@connectrpc/connect";
import { AdminService, BreakerState } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { describe, expect, it } from "vitest";
import { createAdminSources } from "../src/admin-sources.js";
import { createGrpcClient } from "../src/grpc/index.js";
import type { MeshClientStats } from "../src/resilience/index.js";
import { rejection, useGrpc } from "./grpc-fixtures.js";
import { instanceOf, testPolicy, useMesh } from "./resilience-fixtures.js";

describe("AdminService GetServerStats", () => {
  const mesh = useMesh();
  const grpc = useGrpc();

  /** An "order" server whose AdminService reports `targets`, and a client of that AdminService. */
  async function orderServer(targets: readonly { stats(): MeshClientStats }[] = []) {
    const admin = createAdminSources({ service: "order", instanceId: () => "order-1", targets: () => targets });
    const server = await grpc.serve([], { admin });
    return createGrpcClient(AdminService, grpc.connect(server));
  }

  it("shows the breaker of a kitchen instance that kept failing as OPEN, and the retry that went with it", async () => {
    const kitchen = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(kitchen.server, "kitchen-1")]);
    const client = mesh.client(KitchenService, testPolicy({ breaker: { failures: 2 }, retry: { attempts: 2 } }));
    const admin = await orderServer([client]);
    await kitchen.admin.setFault({ fault: { method: "*", statusCode: Code.Unavailable } });

    // Two attempts (the first and its retry), two failures in a row: the breaker opens.
    expect(await rejection(client.getMenu({ restaurantId: "r-1" }))).toMatchObject({ code: Code.Unavailable });
    const stats = await admin.getServerStats({});

    expect(stats).toMatchObject({ service: "order", instanceId: "order-1", consumers: [] });
    expect(stats.outbox).toBeUndefined(); // it has none
    expect(stats.targets).toHaveLength(1);
    expect(stats.targets[0]).toMatchObject({
      target: "kitchen",
      breakers: [{ instanceId: "kitchen-1", state: BreakerState.OPEN }],
      retries: 1n,
    });
    expect(kitchen.handled()).toBe(0); // the fault answered for the handler
  });

  it("reports the bulkhead's capacity and the call policy as configured, and the calls holding a slot", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const kitchen = await mesh.serveKitchen(0, {
      getMenu: async () => {
        await held;
        return {};
      },
    });
    mesh.registry.set("kitchen", [instanceOf(kitchen.server, "kitchen-1")]);
    const policy = testPolicy({
      timeoutMs: 1_500,
      bulkhead: { limit: 3, queue: 2 },
      breaker: { failures: 7, halfOpenAfterMs: 900 },
      retry: { attempts: 4 },
    });
    const client = mesh.client(KitchenService, policy);
    const admin = await orderServer([client]);

    const calls = [0, 1, 2, 3].map(() => client.getMenu({ restaurantId: "r-1" }).catch(() => undefined));
    await expect.poll(() => kitchen.handled()).toBe(3); // three in flight, the fourth waits for a slot
    const [target] = (await admin.getServerStats({})).targets;
    release();
    await Promise.all(calls);

    expect(target).toMatchObject({
      target: "kitchen",
      bulkheadInFlight: 3,
      bulkheadCapacity: 3,
      bulkheadQueued: 1,
      bulkheadQueueCapacity: 2,
      retries: 0n,
      policy: { deadlineMs: 1_500, maxAttempts: 4, breakerThreshold: 7, breakerHalfOpenAfterMs: 900, fallbacks: {} },
    });
    expect(target?.breakers).toEqual([
      expect.objectContaining({ instanceId: "kitchen-1", state: BreakerState.CLOSED }),
    ]);
  });

  it("names the methods that fall back, and with what", async () => {
    const kitchen = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(kitchen.server, "kitchen-1")]);
    const client = mesh.client(KitchenService, testPolicy({ attemptTimeoutMs: 300 }));
    const fallbacks = { GetMenu: "the last known menu" };
    const admin = await orderServer([{ stats: () => ({ ...client.stats(), fallbacks }) }]);

    const [target] = (await admin.getServerStats({})).targets;

    expect(target?.policy).toMatchObject({ deadlineMs: 300, fallbacks });
  });
});

describe("AdminService on a server without NATS or an outbox", () => {
  const grpc = useGrpc();

  async function bareServer() {
    const server = await grpc.serve([], { admin: createAdminSources({ service: "kitchen", instanceId: () => "" }) });
    return createGrpcClient(AdminService, grpc.connect(server));
  }

  it("answers ListDeadLetters and ReplayDeadLetter with FAILED_PRECONDITION", async () => {
    const admin = await bareServer();

    expect(await rejection(admin.listDeadLetters({}))).toMatchObject({
      code: Code.FailedPrecondition,
      rawMessage: "this server has no NATS connection, so no dead letters to list or replay",
    });
    expect(await rejection(admin.replayDeadLetter({ seq: 1n }))).toMatchObject({ code: Code.FailedPrecondition });
  });

  it("lists no sent messages, and refuses a malformed correlation id or seq with INVALID_ARGUMENT", async () => {
    const admin = await bareServer();

    expect(await admin.listSentMessages({ correlationId: "order-1" })).toMatchObject({
      service: "kitchen",
      messages: [],
      sagaMoves: [],
    });
    for (const correlationId of ["", "order 1", "-order", "x".repeat(65)]) {
      expect(await rejection(admin.listSentMessages({ correlationId }))).toMatchObject({
        code: Code.InvalidArgument,
      });
    }
    expect(await rejection(admin.replayDeadLetter({ seq: 0n }))).toMatchObject({ code: Code.InvalidArgument });
  });

  it("answers GetServerStats with an empty answer when the server was given nothing to report", async () => {
    const server = await grpc.serve([]);
    const admin = createGrpcClient(AdminService, grpc.connect(server));

    const stats = await admin.getServerStats({});

    expect(stats).toMatchObject({ service: "", instanceId: "", targets: [], consumers: [] });
    expect(stats.outbox).toBeUndefined();
  });
});
