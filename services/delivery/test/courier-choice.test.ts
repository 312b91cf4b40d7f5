// The rule that picks a courier among the quotes: earliest ETA, then lowest price, then courier id.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { money } from "@ftgo/platform";
import { describe, expect, it } from "vitest";
import { rankQuotes } from "../src/courier-choice.js";

const quote = (courierId: string, etaMinutes: number, price: number) =>
  create(CourierQuoteSchema, {
    orderId: "o-1",
    courierId,
    estimatedDeliveryTime: timestampFromMs(Date.UTC(2030, 0, 1) + etaMinutes * 60_000),
    price: money(price),
  });

const ranked = (...quotes: ReturnType<typeof quote>[]) => rankQuotes(quotes).map((q) => q.courierId);

describe("rankQuotes", () => {
  it("puts the earliest estimated delivery time first, whatever it costs", () => {
    expect(ranked(quote("x", 30, 100), quote("y", 20, 900))).toEqual(["y", "x"]);
  });

  it("breaks an ETA tie by the lower price", () => {
    expect(ranked(quote("x", 20, 700), quote("y", 20, 500))).toEqual(["y", "x"]);
  });

  it("breaks a full tie by courier id, so equal quotes always give the same answer", () => {
    expect(ranked(quote("courier-2", 20, 500), quote("courier-1", 20, 500))).toEqual(["courier-1", "courier-2"]);
  });

  it("leaves the quotes it was given in their order", () => {
    const quotes = [quote("x", 30, 100), quote("y", 20, 900)];
    rankQuotes(quotes);
    expect(quotes.map((q) => q.courierId)).toEqual(["x", "y"]);
  });
});
