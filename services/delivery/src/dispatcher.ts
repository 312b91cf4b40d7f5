// The courier dispatcher: gives PENDING deliveries a courier, outside any message handler. Kitchen's
// ScheduleDelivery only records the delivery PENDING, inside the inbox transaction; gathering quotes
// takes a window of real time and talks to the network, so it must not hold that transaction open. The
// dispatcher does it afterwards: kicked after the command's transaction commits, and on a timer for
// deliveries whose retry is due or that another instance recorded. It reads its work from the database,
// so a restart loses nothing: every delivery still PENDING is picked up again.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CourierQuote } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { createPause, type Logger, type OutboxRelay } from "@ftgo/platform";
import { rankQuotes } from "./courier-choice.js";
import type { QuoteGatherer } from "./courier-quotes.js";
import type { DeliveryStore, PendingDelivery } from "./store.js";

/** The retry delay doubles after each attempt that found no courier, up to this many times COURIER_RETRY_MS. */
const MAX_BACKOFF_FACTOR = 8;

export interface CourierDispatcherOptions {
  readonly store: DeliveryStore;
  readonly gatherer: QuoteGatherer;
  /** Woken after an assignment committed, so that DeliveryScheduled leaves at once. */
  readonly relay: Pick<OutboxRelay, "kick">;
  readonly log: Logger;
  /** How long to gather quotes for one delivery (COURIER_QUOTE_WINDOW_MS). */
  readonly windowMs: number;
  /** The first retry delay when no courier answered (COURIER_RETRY_MS); doubles up to 8×. */
  readonly retryMs: number;
  /** How often to look for due deliveries nobody kicked about. Default min(retryMs, 1 s). */
  readonly pollMs?: number;
}

export interface CourierDispatcher {
  /** Look for PENDING deliveries now. Safe to call inside a transaction: it acts after the current one commits. */
  kick(): void;
  /** Stops: gatherings in progress end at once and leave their deliveries PENDING for the next start. */
  stop(): Promise<void>;
}

/**
 * Starts the dispatcher loop. Each due PENDING delivery gets one quote request (publish/async responses,
 * see courier-quotes.ts); deliveries are gathered in parallel, each at most once at a time per instance.
 * With quotes, the best courier (courier-choice.ts) is assigned in one transaction that also records every
 * quote; without, the delivery stays PENDING with a reason and is tried again after a backoff.
 */
export function startCourierDispatcher(options: CourierDispatcherOptions): CourierDispatcher {
  const { store, gatherer, windowMs, retryMs } = options;
  const pollMs = options.pollMs ?? Math.min(retryMs, 1_000);
  const stopped = new AbortController();
  const inFlight = new Map<string, Promise<void>>();
  /** Deliveries whose last attempt failed unexpectedly (the database, say): left alone until then. */
  const failedUntil = new Map<string, number>();
  let kicked = false;
  const rest = createPause();

  const kickNow = () => {
    kicked = true;
    rest.wake();
  };

  /** Gathers quotes for one delivery and assigns the best courier, or records why not and when to retry. */
  async function dispatch(delivery: PendingDelivery): Promise<void> {
    const log = options.log.child({ orderId: delivery.orderId });
    try {
      const quotes = await gatherer.gather(
        { orderId: delivery.orderId, restaurantId: delivery.restaurantId, readyBy: delivery.readyBy },
        windowMs,
        stopped.signal,
      );
      if (stopped.signal.aborted) return; // a window cut short proves nothing: the next start tries again
      if (quotes.length === 0) {
        const delayMs = retryDelay(retryMs, delivery.attempts + 1);
        const reason = `no courier answered within ${formatMs(windowMs)}; retrying in ${formatMs(delayMs)}`;
        if (store.postponeAssignment(delivery.orderId, reason, Date.now() + delayMs)) {
          log.warn({ attempt: delivery.attempts + 1, retryInMs: delayMs }, reason);
        }
        return;
      }
      const ranked = rankQuotes(quotes);
      const chosen = ranked[0] as CourierQuote;
      const answered = ranked.map(describeQuote);
      if (store.assignCourier(delivery.orderId, chosen, ranked)) {
        options.relay.kick();
        log.info({ courierId: chosen.courierId, quotes: answered }, `courier ${chosen.courierId} assigned`);
      } else {
        log.info({ quotes: answered }, "delivery was already assigned (by another instance): quotes discarded");
      }
    } catch (err) {
      failedUntil.set(delivery.orderId, Date.now() + retryMs);
      log.error({ err }, "could not assign a courier; trying again later");
    }
  }

  async function run(): Promise<void> {
    while (!stopped.signal.aborted) {
      kicked = false;
      const now = Date.now();
      try {
        for (const delivery of store.dueDeliveries(now)) {
          if (inFlight.has(delivery.orderId) || (failedUntil.get(delivery.orderId) ?? 0) > now) continue;
          failedUntil.delete(delivery.orderId);
          const job = dispatch(delivery).finally(() => {
            inFlight.delete(delivery.orderId);
            kickNow(); // its row changed: the next due time may have, too
          });
          inFlight.set(delivery.orderId, job);
        }
      } catch (err) {
        options.log.error({ err }, "could not read the pending deliveries; trying again later");
      }
      if (!kicked) await rest.sleep(untilNextDue());
    }
    await Promise.all(inFlight.values());
  }

  /** How long to sleep: until the next retry is due, at most pollMs (rows due now are being gathered). */
  function untilNextDue(): number {
    try {
      const next = store.nextDueAt();
      const wait = next === undefined ? pollMs : next - Date.now();
      return wait > 0 ? Math.min(wait, pollMs) : pollMs;
    } catch {
      return pollMs;
    }
  }

  const running = run();
  return {
    kick() {
      if (!stopped.signal.aborted) setImmediate(kickNow); // after the caller's transaction has committed
    },
    async stop() {
      stopped.abort();
      rest.wake();
      await running;
    },
  };
}

/** retryMs, then twice that, four times, … up to 8 × retryMs: no answer, try again, less and less often. */
export function retryDelay(retryMs: number, attempt: number): number {
  return Math.min(retryMs * 2 ** Math.max(0, attempt - 1), retryMs * MAX_BACKOFF_FACTOR);
}

/** "400 ms", "5 s", "2.5 s": durations as a person reads them in a reason. */
export function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Number((ms / 1_000).toFixed(1))} s`;
}

/** A quote in a log line: who, when, for how much. */
function describeQuote(quote: CourierQuote) {
  return {
    courierId: quote.courierId,
    eta: quote.estimatedDeliveryTime ? timestampDate(quote.estimatedDeliveryTime).toISOString() : "",
    price: `${quote.price?.minorUnits ?? 0n} ${quote.price?.currencyCode ?? ""}`.trim(),
  };
}
