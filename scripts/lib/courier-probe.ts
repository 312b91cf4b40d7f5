// Readiness of the couriers, which serve no port: a courier is ready when it answers a quote request. The
// probe asks the way Delivery does — a CourierQuoteRequest on the publish-subscribe subject, with a reply
// inbox and a correlation id — and waits until every courier named has answered. Each answer shows up in
// that courier's log as a "quote sent" for the order "readiness-probe".
import { createQuoteGatherer } from "@ftgo/delivery/couriers";
import { silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { connect } from "@nats-io/transport-node";

/** The order id of the probe's requests: not a real order, and said so in every courier's log line. */
export const PROBE_ORDER_ID = "readiness-probe";
/** How long each probe request gathers answers. */
const WINDOW_MS = 500;

export interface CourierProbeOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Resolves once every courier in `courierIds` has answered a quote request on the NATS server at
 * `natsUrl`, asking as Delivery does (its own quote gatherer), again and again until then. Rejects,
 * naming the couriers still silent, when that does not happen within the timeout.
 */
export async function waitUntilCouriersAnswer(
  natsUrl: string,
  courierIds: readonly string[],
  { timeoutMs = 30_000, signal }: CourierProbeOptions = {},
): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: "up-courier-probe" });
  const gatherer = createQuoteGatherer({ nc, log: silentLogger() });
  const answered = new Set<string>();
  const silent = () => courierIds.filter((id) => !answered.has(id));
  try {
    await waitFor(
      async () => {
        const quotes = await gatherer.gather({ orderId: PROBE_ORDER_ID, restaurantId: "none" }, WINDOW_MS, signal);
        for (const quote of quotes) answered.add(quote.courierId);
        return silent().length === 0;
      },
      {
        timeoutMs,
        intervalMs: 0,
        signal,
        message: () => `couriers answering a quote request (still silent: ${silent().join(", ")})`,
      },
    );
  } finally {
    gatherer.close();
    await nc.close();
  }
}
