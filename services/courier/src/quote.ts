// What a courier asks for a delivery: a pure function of its terms and the request, so that tests (and
// people reading `make up` logs) can predict which courier wins.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type CourierQuote,
  type CourierQuoteRequest,
  CourierQuoteSchema,
} from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { money } from "@ftgo/platform";

/** A courier's terms, from its configuration. */
export interface CourierTerms {
  readonly courierId: string;
  /** Minutes from pickup at the restaurant to the consumer's door. */
  readonly minutes: number;
  /** Its price for any delivery, in minor units of `currency`. */
  readonly priceMinor: number;
  readonly currency: string;
}

const MINUTE_MS = 60_000;

/**
 * The courier's quote: it picks the food up when it is ready (or now, if that is later), rounded up to
 * the whole minute, and delivers `minutes` later, for its fixed price.
 */
export function quoteFor(terms: CourierTerms, request: CourierQuoteRequest, now: number): CourierQuote {
  const readyBy = request.readyBy ? timestampDate(request.readyBy).getTime() : now;
  const pickup = Math.ceil(Math.max(readyBy, now) / MINUTE_MS) * MINUTE_MS;
  return create(CourierQuoteSchema, {
    orderId: request.orderId,
    courierId: terms.courierId,
    estimatedDeliveryTime: timestampFromMs(pickup + terms.minutes * MINUTE_MS),
    price: money(terms.priceMinor, terms.currency),
  });
}
