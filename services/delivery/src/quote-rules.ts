// What Delivery takes from a courier. A quote arrives on a reply subject anyone on the broker can publish
// to, so it is checked like any input from outside: first against its contract (couriers.proto declares
// a courier id of the shape every ftgo id has, a required ETA, a positive price in a currency code), then
// against what a proto option cannot say: an estimated delivery time that is still to come (allowing a
// little clock skew between machines) and not absurdly far away, a price of a sane size. A quote that
// fails is dropped, never ranked: a quote promising delivery in 1970 for nothing would otherwise win
// every order.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type CourierQuote, CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { describeViolations } from "@ftgo/platform";

/** How many quotes one request takes, and one delivery keeps, at most, unless configured (COURIER_MAX_QUOTES). */
export const DEFAULT_MAX_QUOTES = 16;

export interface QuoteRules {
  /** How far in the past an ETA may be and still count as "now" on a courier whose clock is behind. */
  readonly clockSkewMs: number;
  /** How long after the food is ready (or now, if later) an ETA may be. */
  readonly maxEtaAfterReadyMs: number;
  /** The highest price, in minor units, a courier may ask. */
  readonly maxPriceMinor: bigint;
}

export const DEFAULT_QUOTE_RULES: QuoteRules = Object.freeze({
  clockSkewMs: 30_000,
  maxEtaAfterReadyMs: 24 * 60 * 60_000,
  maxPriceMinor: 100_000n,
});

/** What a quote is judged against: the order it must answer, the moment it arrived, when the food is ready. */
export interface QuoteContext {
  readonly orderId: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Milliseconds since the epoch. */
  readonly readyBy: number;
}

/** Why `quote` cannot be taken, as a short phrase for the log; undefined when it can. */
export function quoteProblem(quote: CourierQuote, context: QuoteContext, rules = DEFAULT_QUOTE_RULES) {
  if (quote.orderId !== context.orderId) return "answers another order";
  const broken = describeViolations(CourierQuoteSchema, quote);
  if (broken !== undefined) return broken;
  if (!quote.estimatedDeliveryTime || !quote.price) return "breaks its contract"; // required: checked above
  const eta = timestampDate(quote.estimatedDeliveryTime).getTime();
  if (Number.isNaN(eta) || eta < context.now - rules.clockSkewMs) return "estimated delivery time is in the past";
  if (eta > Math.max(context.now, context.readyBy) + rules.maxEtaAfterReadyMs) {
    return "estimated delivery time is too far ahead";
  }
  if (quote.price.minorUnits > rules.maxPriceMinor) return "price is above the maximum";
  return undefined;
}
