import {
  call,
  detailsWhenSettled,
  type GatewayMesh,
  placeOrderThroughGateway,
  signIn,
  startGatewayMesh,
} from "@ftgo/harness/gateway-mesh.js";
import { meshClients } from "@ftgo/harness/mesh-clients.js";
import { startTestCourier } from "@ftgo/harness/test-couriers.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("the gateway in front of the Create Order saga", () => {
  let mesh: GatewayMesh;
  beforeAll(async () => {
    mesh = await startGatewayMesh();
  });
  afterAll(() => mesh?.stop());

  it("places an order that answers 202 APPROVAL_PENDING and composes to APPROVED for c-1001 at r-1", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const created = await call(`${mesh.url}/api/v1/orders`, token, {
      method: "POST",
      body: {
        restaurantId: "r-1",
        lineItems: [
          { menuItemId: "m-1", quantity: 2 },
          { menuItemId: "m-3", quantity: 1 },
        ],
      },
    });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ orderId: expect.any(String), state: "APPROVAL_PENDING" });

    const details = await detailsWhenSettled(mesh.url, token, created.body.orderId);
    expect(details.order).toMatchObject({ state: "APPROVED", consumerId: "c-1001", total: { minorUnits: "1500" } });
    expect(details.ticket.state).toBe("AWAITING_ACCEPTANCE");
    expect(details.payment.state).toBe("AUTHORIZED");
    // The points leg, from the Go Loyalty service: one point per whole unit of the 15.00 total.
    expect(details.points).toEqual({
      orderId: created.body.orderId,
      consumerId: "c-1001",
      points: "15",
      state: "EARNED",
    });
    expect(details.unavailable).toEqual([]);
  });

  it.each([
    ["c-1002", "r-1", "card ending 0002 was declined", "DECLINED"],
    ["c-1003", "r-1", "consumer c-1003 is suspended", "CANCELLED"],
    ["c-1001", "r-2", "restaurant r-2 is closed", "CANCELLED"],
  ])("rejects the order of %s at %s: %s", async (consumerId, restaurantId, reason, payment) => {
    const token = await signIn(mesh.url, { consumerId });
    const orderId = await placeOrderThroughGateway(mesh.url, token, restaurantId);
    const details = await detailsWhenSettled(mesh.url, token, orderId);
    expect(details.order).toMatchObject({ state: "REJECTED", reason });
    expect(details.ticket.state).toBe("CREATE_REJECTED");
    expect(details.payment.state).toBe(payment);
    expect(details.points).toMatchObject({ orderId, state: "NONE" });
  });

  it("lists only the caller's orders", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const { status, body } = await call(`${mesh.url}/api/v1/orders?pageSize=100`, token);
    expect(status).toBe(200);
    expect(body.orders.length).toBeGreaterThan(0);
    expect(body.orders.every((order: { consumerId: string }) => order.consumerId === "c-1001")).toBe(true);
  });

  it("serves the mobile view of an order from the same composition", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    await detailsWhenSettled(mesh.url, token, orderId);
    const { status, body } = await call(`${mesh.url}/mobile/v1/orders/${orderId}`, token);
    expect(status).toBe(200);
    expect(body).toMatchObject({ orderId, status: "APPROVED", itemCount: 3, total: { minorUnits: "1500" } });
  });

  it("composes the delivery leg once the restaurant accepts the ticket: SCHEDULED, with the courier that answered", async () => {
    const courier = await startTestCourier(mesh.mesh.nats.url, { id: "courier-g", minutes: 20, price: 500 });
    const clients = meshClients(mesh.mesh);
    try {
      const token = await signIn(mesh.url, { consumerId: "c-1001" });
      const orderId = await placeOrderThroughGateway(mesh.url, token);
      const approved = await detailsWhenSettled(mesh.url, token, orderId);
      expect(approved.delivery).toBeNull(); // no delivery until the restaurant accepts
      await clients.kitchen.acceptTicket({ orderId });
      // The cached view is dropped by DeliveryScheduled, so it shows the courier without waiting out the TTL.
      const details = await detailsWhenSettled(
        mesh.url,
        token,
        orderId,
        (body) => body.delivery?.state === "SCHEDULED",
      );
      expect(details.ticket.state).toBe("ACCEPTED");
      expect(details.delivery).toMatchObject({
        orderId,
        restaurantId: "r-1",
        courierId: "courier-g",
        quotes: [{ courierId: "courier-g", price: { minorUnits: "500" } }],
      });
      expect(details.unavailable).toEqual([]);
      const mobile = await call(`${mesh.url}/mobile/v1/orders/${orderId}`, token);
      expect(mobile.body.eta).toBe(details.delivery.estimatedDeliveryTime);
    } finally {
      clients.close();
      await courier.stop();
    }
  });

  it("relays the order's changes as Server-Sent Events until it is APPROVED", async () => {
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    const response = await fetch(`${mesh.url}/api/v1/orders/${orderId}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(15_000),
    });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const states: string[] = [];
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      for (const [, data] of text.matchAll(/event: order\ndata: (.*)\n\n/g))
        states.push(JSON.parse(data ?? "{}").state);
      text = text.slice(text.lastIndexOf("\n\n") + 2);
      if (states.includes("APPROVED")) break;
    }
    expect(states.at(-1)).toBe("APPROVED");
  });

  // Last: it kills the Go service. The saga owes it nothing; only the view's points leg goes missing, then comes back.
  it("composes without Loyalty: after its SIGKILL the saga still approves, `points` is listed unavailable, then catches up", async () => {
    await mesh.loyalty.kill("SIGKILL");
    const token = await signIn(mesh.url, { consumerId: "c-1001" });
    const orderId = await placeOrderThroughGateway(mesh.url, token);
    const details = await detailsWhenSettled(
      mesh.url,
      token,
      orderId,
      // Order and Kitchen both react to CreditCardAuthorized, in either order: wait for the ticket too.
      (body) =>
        body.order.state === "APPROVED" &&
        body.payment?.state === "AUTHORIZED" &&
        body.ticket?.state === "AWAITING_ACCEPTANCE",
    );
    expect(details.ticket.state).toBe("AWAITING_ACCEPTANCE");
    expect(details.points).toBeNull();
    expect(details.unavailable).toEqual(["points"]);
    const ready = await fetch(`${mesh.url}/readyz`);
    expect(ready.status).toBe(200); // Loyalty is optional: the gateway stays ready, and says what is missing
    const readiness = (await ready.json()) as { degraded?: Record<string, string> };
    expect(readiness.degraded?.loyalty).toMatch(/optional/);
    // Back on the same store: its durable consumers hand it the events it missed.
    await mesh.loyalty.restart();
    const caughtUp = await detailsWhenSettled(mesh.url, token, orderId);
    expect(caughtUp.points).toMatchObject({ orderId, state: "EARNED", points: "15" });
    expect(caughtUp.unavailable).toEqual([]);
  });
});
