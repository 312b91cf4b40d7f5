// The Create Order and Cancel Order sagas end to end, coordinated both ways (SAGA_MODE=choreography and
// SAGA_MODE=orchestration): five real services, a real nats-server, every path of the seed ending in a
// terminal state in every participant. The same tests run in both modes; where the two legitimately
// end differently (an orchestrated saga that fails early never asks the later participants), the
// expectation says so per mode. Each mode runs twice more under server-side discovery (DISCOVERY=server):
// every gRPC call between the services then goes through Traefik, routed from Consul's catalog, which the
// harness fills as the registrar; the saga's messages still go over NATS.
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import {
  orderReaches,
  placeOrderOverGrpc as placeOrder,
  sagaReaches as sagaSettles,
} from "@ftgo/harness/saga-over-grpc.js";
import { type DiscoveryMode, SAGA_MODES, type SagaMode } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const RUNS = (["client", "server"] as const).flatMap((discovery: DiscoveryMode) =>
  SAGA_MODES.map((mode) => ({ mode, discovery })),
);

describe.each(RUNS)("SAGA_MODE=$mode DISCOVERY=$discovery", ({ mode, discovery }) => {
  let mesh: TestMesh;
  let clients: MeshClients;

  beforeAll(async () => {
    mesh = await startTestMesh({ SAGA_MODE: mode }, { discovery });
    clients = meshClients(mesh);
  }, 180_000); // under DISCOVERY=server, Consul and Traefik start too, and each service must be routed
  afterAll(async () => {
    clients?.close();
    await mesh?.stop();
  });

  /** Choreography starts Kitchen and Accounting in parallel with Consumer; orchestration asks one step at a time. */
  const byMode = (states: Record<SagaMode, string>) => states[mode];

  describe("Create Order saga", () => {
    it("approves the order of an active consumer whose card pays, at an open restaurant", async () => {
      const order = await placeOrder(clients, "c-1001");
      expect(order.state).toBe(OrderState.APPROVAL_PENDING);
      expect(
        await sagaSettles(clients, order.orderId, {
          order: "APPROVED",
          reason: "",
          ticket: "AWAITING_ACCEPTANCE",
          authorization: "AUTHORIZED",
        }),
      ).toBeTruthy();
    });

    // The seed's compensation paths: who orders where, and how every participant must end. A participant the
    // orchestrator never asked (its saga failed at an earlier step) has no ticket or authorization at all: NONE.
    const rejectedTicket = { choreography: "CREATE_REJECTED", orchestration: "NONE" } as const;
    const cancelledAuthorization = { choreography: "CANCELLED", orchestration: "NONE" } as const;
    it.each([
      ["the card is declined", "c-1002", "r-1", "card ending 0002 was declined", "CREATE_REJECTED", "DECLINED"],
      [
        "consumer verification fails",
        "c-1003",
        "r-1",
        "consumer c-1003 is suspended",
        rejectedTicket,
        cancelledAuthorization,
      ],
      ["the consumer is unknown", "c-9999", "r-1", "consumer c-9999 not found", rejectedTicket, cancelledAuthorization],
      [
        "ticket creation fails (closed restaurant)",
        "c-1001",
        "r-2",
        "restaurant r-2 is closed",
        "CREATE_REJECTED",
        cancelledAuthorization,
      ],
    ] as const)(
      "rejects the order when %s, compensating the earlier steps",
      async (_, consumerId, restaurantId, reason, ticket, authorization) => {
        const order = await placeOrder(clients, consumerId, restaurantId);
        await sagaSettles(clients, order.orderId, {
          order: "REJECTED",
          reason,
          ticket: typeof ticket === "string" ? ticket : byMode(ticket),
          authorization: typeof authorization === "string" ? authorization : byMode(authorization),
        });
      },
    );

    it("streams every state change to a WatchOrder client", async () => {
      const order = await placeOrder(clients, "c-1001");
      const seen: string[] = [];
      for await (const { order: update } of clients.order.watchOrder({ orderId: order.orderId })) {
        seen.push(OrderState[update?.state ?? 0]);
        if (update?.state === OrderState.APPROVED) break;
      }
      // It may connect after the approval already happened: then the current state is all there is to see.
      expect(seen.at(-1)).toBe("APPROVED");
      expect(seen.every((state) => state === "APPROVAL_PENDING" || state === "APPROVED")).toBe(true);
    });
  });

  describe("Cancel Order saga", () => {
    it("cancels an approved order: ticket cancelled, charge reversed", async () => {
      const order = await placeOrder(clients, "c-1001");
      await orderReaches(clients, order.orderId, new Set([OrderState.APPROVED]));
      const { order: cancelling } = await clients.order.cancelOrder({ orderId: order.orderId });
      expect(cancelling?.state).toBe(OrderState.CANCEL_PENDING);
      await sagaSettles(clients, order.orderId, {
        order: "CANCELLED",
        reason: "",
        ticket: "CANCELLED",
        authorization: "REVERSED",
      });
    });

    it("refuses once the restaurant has accepted the ticket: the order returns to APPROVED with the reason", async () => {
      const order = await placeOrder(clients, "c-1001");
      await sagaSettles(clients, order.orderId, {
        order: "APPROVED",
        reason: "",
        ticket: "AWAITING_ACCEPTANCE",
        authorization: "AUTHORIZED",
      });
      await clients.kitchen.acceptTicket({ orderId: order.orderId });
      await clients.order.cancelOrder({ orderId: order.orderId });
      await sagaSettles(clients, order.orderId, {
        order: "APPROVED",
        reason: "the restaurant has accepted the ticket",
        ticket: "ACCEPTED",
        authorization: "AUTHORIZED",
      });
    });

    it("answers FAILED_PRECONDITION for an order that is not APPROVED", async () => {
      const order = await placeOrder(clients, "c-1002");
      await orderReaches(clients, order.orderId);
      const err = await clients.order
        .cancelOrder({ orderId: order.orderId })
        .catch((e: unknown) => ConnectError.from(e));
      expect(err).toMatchObject({ code: Code.FailedPrecondition });
      expect((err as ConnectError).rawMessage).toContain("REJECTED");
    });
  });

  if (discovery === "server") {
    describe("server-side discovery", () => {
      // Order prices each order from Kitchen's menu (GetMenu, a gRPC call) and, when Kitchen cannot be reached,
      // from the last menu it saw of that restaurant, and says so on the order. So an order that is not priced
      // from the last known menu proves the call reached Kitchen, and one that is proves it did not: with
      // Kitchen out of Consul's catalog (still running, still on NATS), Order must fail to reach it if, and
      // only if, its calls go through the router.
      it("prices orders from Kitchen through the router, and only while the router routes to Kitchen", async () => {
        if (!mesh.serverSide) throw new Error("the mesh was started without server-side discovery");
        const { registrar, router } = mesh.serverSide;
        const kitchen = { service: "kitchen", address: "127.0.0.1", port: mesh.kitchen.port };
        expect(await router.servers("kitchen")).toEqual([`127.0.0.1:${kitchen.port}`]);
        expect((await placeOrder(clients, "c-1001")).pricedFromLastKnownMenu).toBe(false);

        // Registering the same process again replaces its entry (same id); deregistering that removes it.
        await (await registrar.register(kitchen)).deregister();
        await vi.waitFor(async () => expect(await router.servers("kitchen")).toEqual([]), { timeout: 30_000 });
        const priced = await placeOrder(clients, "c-1001");
        expect(priced.pricedFromLastKnownMenu, "an order placed while the router had no Kitchen").toBe(true);
        // The saga itself runs over NATS, router or not.
        expect((await orderReaches(clients, priced.orderId)).state).toBe(OrderState.APPROVED);

        await registrar.register(kitchen);
        await vi.waitFor(async () => expect(await router.servers("kitchen")).toEqual([`127.0.0.1:${kitchen.port}`]), {
          timeout: 30_000,
        });
        // Order's breaker for Kitchen may have opened on those failures: its pause (5 s) is within the wait.
        await vi.waitFor(
          async () => expect((await placeOrder(clients, "c-1001")).pricedFromLastKnownMenu).toBe(false),
          { timeout: 30_000, interval: 250 },
        );
      });
    });
  }
});
