// Couriers for tests: real courier apps (services/courier), started in this process against a test's
// nats-server, each with terms the test chooses so that it can predict who wins a delivery.
import { loadCourierConfig, type RunningCourier, startCourier } from "@ftgo/courier";
import { DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { type CourierTerms, silentLogger } from "@ftgo/platform";
import { vi } from "vitest";
import type { MeshClients } from "./mesh-clients.js";

/** Starts one courier on `natsUrl`; resolves once the server has its subscription (it answers from then on). */
export function startTestCourier(natsUrl: string, { id, minutes, price }: CourierTerms): Promise<RunningCourier> {
  const config = loadCourierConfig({
    NATS_URL: natsUrl,
    COURIER_ID: id,
    COURIER_MINUTES: String(minutes),
    COURIER_PRICE: String(price),
    LOG_LEVEL: "silent",
  });
  return startCourier(config, silentLogger());
}

/** A ready-by time on a whole minute, `minutes` from now: couriers quote from it exactly, so ETAs are predictable. */
export function readyByInMinutes(minutes: number): Date {
  return new Date(Math.ceil((Date.now() + minutes * 60_000) / 60_000) * 60_000);
}

/** Polls GetDelivery until the order's delivery exists and `until` holds; that delivery. */
export function deliveryWhen(
  clients: MeshClients,
  orderId: string,
  until: (delivery: NonNullable<Awaited<ReturnType<MeshClients["delivery"]["getDelivery"]>>["delivery"]>) => boolean,
  message = `delivery of ${orderId}`,
) {
  return vi.waitFor(
    async () => {
      const { delivery } = await clients.delivery.getDelivery({ orderId });
      if (!delivery || !until(delivery))
        throw new Error(`${message}: it is ${delivery ? DeliveryState[delivery.state] : "missing"}`);
      return delivery;
    },
    { timeout: 15_000, interval: 25 },
  );
}

/** Polls until the order's delivery is SCHEDULED (has its courier). */
export const deliveryScheduled = (clients: MeshClients, orderId: string) =>
  deliveryWhen(clients, orderId, (d) => d.state === DeliveryState.SCHEDULED, `delivery of ${orderId} SCHEDULED`);
