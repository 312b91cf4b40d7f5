// What Delivery takes from a courier: the rules a quote must pass before it is ranked at all.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { money } from "@ftgo/platform";
import { describe, expect, it } from "vitest";
import { quoteProblem } from "../src/quote-rules.js";

const MINUTE = 60_000;
const NOW = Date.UTC(2030, 0, 1, 12);
const READY_BY = NOW + 15 * MINUTE;
const context = { orderId: "o-1", now: NOW, readyBy: READY_BY };

function quote(changes: { courierId?: string; eta?: number; price?: number; currency?: string; orderId?: string }) {
  return create(CourierQuoteSchema, {
    orderId: changes.orderId ?? "o-1",
    courierId: changes.courierId ?? "courier-a",
    estimatedDeliveryTime: timestampFromMs(changes.eta ?? READY_BY + 20 * MINUTE),
    price: money(changes.price ?? 500, changes.currency),
  });
}

describe("quoteProblem", () => {
  it("takes an ordinary quote, and one whose ETA is a few seconds behind (clock skew)", () => {
    expect(quoteProblem(quote({}), context)).toBeUndefined();
    expect(quoteProblem(quote({ eta: NOW - 5_000 }), context)).toBeUndefined();
  });

  it("refuses an ETA in the past, in 1970, or more than a day after the food is ready", () => {
    expect(quoteProblem(quote({ eta: 0 }), context)).toBe("estimated delivery time is in the past");
    expect(quoteProblem(quote({ eta: NOW - 10 * MINUTE }), context)).toBe("estimated delivery time is in the past");
    expect(quoteProblem(quote({ eta: READY_BY + 25 * 60 * MINUTE }), context)).toBe(
      "estimated delivery time is too far ahead",
    );
  });

  it("refuses, by its contract, a price of zero or less and a currency that is not a code; and an absurd price", () => {
    expect(quoteProblem(quote({ price: 0 }), context)).toBe(
      "price: a quote must cost more than nothing [price.positive]",
    );
    expect(quoteProblem(quote({ price: -1 }), context)).toBe(
      "price: a quote must cost more than nothing [price.positive]",
    );
    expect(quoteProblem(quote({ price: 100_001 }), context)).toBe("price is above the maximum");
    expect(quoteProblem(quote({ currency: "euros" }), context)).toMatch(
      /^price\.currency_code: .* \[string\.pattern\]$/,
    );
  });

  it("refuses, by its contract, a courier id that is not an id: empty, too long, spaces, terminal escapes", () => {
    expect(quoteProblem(quote({ courierId: "" }), context)).toBe("courier_id: value is required [required]");
    expect(quoteProblem(quote({ courierId: "x".repeat(65) }), context)).toMatch(/^courier_id: .* \[string\.max_len\]$/);
    for (const courierId of ["a b", "evil\x1b[2J", "-leading", "ok\u202e"]) {
      expect(quoteProblem(quote({ courierId }), context), courierId).toMatch(/^courier_id: .* \[string\.pattern\]$/);
    }
    expect(quoteProblem(quote({ courierId: `c${"x".repeat(63)}` }), context)).toBeUndefined();
  });

  it("refuses a quote for another order", () => {
    expect(quoteProblem(quote({ orderId: "o-2" }), context)).toBe("answers another order");
  });
});
