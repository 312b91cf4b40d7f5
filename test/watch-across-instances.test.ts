// The Watch RPCs with two instances of a service: a watcher connected to one instance hears the changes the
// other instance makes, because the change feed lives in the database they share (change_log, read on
// commit and when another connection commits), not in one process's memory.
import { TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { describe, expect, it } from "vitest";

const fixture = useSagaMesh({ instances: { order: 2, kitchen: 2 } });

/** Clients whose Order and Kitchen are the second instances. */
function secondInstanceClients() {
  const { mesh } = fixture;
  const [order, kitchen] = [mesh.instances.order[1], mesh.instances.kitchen[1]];
  if (!order || !kitchen) throw new Error("the mesh has no second Order or Kitchen");
  return meshClients({ ...mesh, order, kitchen });
}

describe("Watch RPCs across two instances sharing a database", () => {
  it("streams to a watcher on Order's second instance the cancel made through the first", async () => {
    const { clients } = fixture;
    const second = secondInstanceClients();
    const watching = new AbortController();
    try {
      const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
      await orderReaches(clients, orderId, new Set([OrderState.APPROVED]));
      const states: string[] = [];
      let connected: () => void = () => {};
      const first = new Promise<void>((resolve) => (connected = resolve));
      const done = (async () => {
        const stream = second.order.watchOrder({ orderId }, { signal: watching.signal, timeoutMs: 60_000 });
        for await (const { order } of stream) {
          states.push(OrderState[order?.state ?? 0]);
          connected();
        }
      })();
      await Promise.race([first, done]);
      // Made by the first instance, in its own transaction: the second has nothing in memory about it.
      const { order } = await clients.order.cancelOrder({ orderId });
      expect(OrderState[order?.state ?? 0]).toBe("CANCEL_PENDING");
      await done; // CANCELLED is final: the second instance ends the stream there
      expect(states).toEqual(["APPROVED", "CANCEL_PENDING", "CANCELLED"]);
    } finally {
      watching.abort();
      second.close();
    }
  });

  it("streams to a kitchen display on Kitchen's second instance the ticket accepted through the first", async () => {
    const { clients } = fixture;
    const second = secondInstanceClients();
    const watching = new AbortController();
    try {
      const changes: { orderId: string; state: string }[] = [];
      let orderId = "";
      let connected: () => void = () => {};
      const first = new Promise<void>((resolve) => (connected = resolve));
      const done = (async () => {
        const stream = second.kitchen.watchTickets(
          { restaurantId: "r-1" },
          { signal: watching.signal, timeoutMs: 60_000 },
        );
        for await (const { event } of stream) {
          if (event.case === "openTickets") connected();
          if (event.case !== "ticketChanged") continue;
          changes.push({ orderId: event.value.orderId, state: TicketState[event.value.state] });
          if (event.value.orderId === orderId && event.value.state === TicketState.ACCEPTED) return;
        }
      })();
      await Promise.race([first, done]);
      orderId = (await placeOrderOverGrpc(clients, "c-1001", "r-1")).orderId;
      await orderReaches(clients, orderId, new Set([OrderState.APPROVED]));
      await clients.kitchen.acceptTicket({ orderId }); // on the first instance
      await done;
      const ours = changes.filter((change) => change.orderId === orderId).map((change) => change.state);
      expect(ours).toEqual(["AWAITING_ACCEPTANCE", "ACCEPTED"]);
    } finally {
      watching.abort();
      second.close();
    }
  });
});
