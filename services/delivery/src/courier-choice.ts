// Which courier gets the job, when several answered the quote request. The rule, in order:
//   1. the earliest estimated delivery time (the consumer's food arrives first),
//   2. then the lowest price,
//   3. then the courier id (alphabetically), so that equal quotes always give the same answer.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CourierQuote } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";

/** Orders two quotes by the rule above: negative when `a` is the better one. */
export function compareQuotes(a: CourierQuote, b: CourierQuote): number {
  return (
    etaOf(a) - etaOf(b) ||
    Number((a.price?.minorUnits ?? 0n) - (b.price?.minorUnits ?? 0n)) ||
    (a.courierId < b.courierId ? -1 : a.courierId > b.courierId ? 1 : 0)
  );
}

/** The quotes best first; the first is the courier to assign. Does not change `quotes`. */
export function rankQuotes(quotes: readonly CourierQuote[]): CourierQuote[] {
  return [...quotes].sort(compareQuotes);
}

function etaOf(quote: CourierQuote): number {
  return quote.estimatedDeliveryTime ? timestampDate(quote.estimatedDeliveryTime).getTime() : Number.POSITIVE_INFINITY;
}
