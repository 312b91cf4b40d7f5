// A courier's quote is a pure function of its terms and the request: predictable, so tests can name the winner.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CourierQuoteRequestSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { describe, expect, it } from "vitest";
import { quoteFor } from "../src/quote.js";

const MINUTE = 60_000;
const NOW = Date.UTC(2030, 0, 1, 12, 0, 10); // 12:00:10
const terms = { courierId: "courier-7", minutes: 25, priceMinor: 450, currency: "USD" };
const request = (readyBy?: number) =>
  create(CourierQuoteRequestSchema, {
    orderId: "o-1",
    restaurantId: "r-1",
    readyBy: readyBy === undefined ? undefined : timestampFromMs(readyBy),
  });
const etaOf = (readyBy?: number) => {
  const quote = quoteFor(terms, request(readyBy), NOW);
  return quote.estimatedDeliveryTime && timestampDate(quote.estimatedDeliveryTime).getTime();
};

describe("quoteFor", () => {
  it("delivers its minutes after the food is ready, for its price, as itself", () => {
    const readyBy = Date.UTC(2030, 0, 1, 12, 30);
    const quote = quoteFor(terms, request(readyBy), NOW);
    expect(quote).toMatchObject({
      orderId: "o-1",
      courierId: "courier-7",
      price: { minorUnits: 450n, currencyCode: "USD" },
    });
    expect(etaOf(readyBy)).toBe(readyBy + 25 * MINUTE);
  });

  it("picks up no earlier than now, rounded up to the whole minute, when the food is ready already", () => {
    expect(etaOf(NOW - 10 * MINUTE)).toBe(Date.UTC(2030, 0, 1, 12, 1) + 25 * MINUTE);
    expect(etaOf(undefined)).toBe(Date.UTC(2030, 0, 1, 12, 1) + 25 * MINUTE);
  });
});
