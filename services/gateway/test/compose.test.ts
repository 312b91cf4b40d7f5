// The composed order view stays small whatever Delivery answers: at most MAX_QUOTES_SHOWN courier quotes,
// the first ones (Delivery answers best first). The backends here are fakes that answer at once.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { AuthorizationSchema } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { DeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { TicketSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderSchema } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { money, silentLogger } from "@ftgo/platform";
import { describe, expect, it } from "vitest";
import type { Backends } from "../src/clients.js";
import { composeOrderDetails, MAX_QUOTES_SHOWN } from "../src/compose.js";
import { ORDERS_V1 } from "../src/order-api.js";

/** Backends whose Delivery answers a delivery with `quotes` courier quotes. */
function backendsWith(quotes: number): Backends {
  const orderId = "o-1";
  const delivery = create(DeliverySchema, {
    orderId,
    courierId: "c-0",
    quotes: Array.from({ length: quotes }, (_, i) =>
      create(CourierQuoteSchema, {
        orderId,
        courierId: `c-${i}`,
        estimatedDeliveryTime: timestampFromMs(Date.UTC(2030, 0, 1) + i * 1_000),
        price: money(500),
      }),
    ),
  });
  return {
    order: { getOrder: async () => ({ order: create(OrderSchema, { orderId }) }) },
    kitchen: { getTicket: async () => ({ ticket: create(TicketSchema, { orderId }) }) },
    delivery: { getDelivery: async () => ({ delivery }) },
    accounting: { getAuthorization: async () => ({ authorization: create(AuthorizationSchema, { orderId }) }) },
  } as unknown as Backends;
}

const compose = (backends: Backends) =>
  composeOrderDetails(backends, "o-1", {
    orders: ORDERS_V1,
    legTimeoutMs: 1_000,
    requestId: "r-1",
    log: silentLogger(),
  });

describe("composeOrderDetails", () => {
  it("shows at most MAX_QUOTES_SHOWN courier quotes, the first ones, however many Delivery answers", async () => {
    const details = await compose(backendsWith(5_000));
    const quotes = details.delivery?.quotes as { courierId: string }[];
    expect(quotes).toHaveLength(MAX_QUOTES_SHOWN);
    expect(quotes.map((quote) => quote.courierId)).toEqual(
      Array.from({ length: MAX_QUOTES_SHOWN }, (_, i) => `c-${i}`),
    );
  });

  it("shows every quote when there are no more than that", async () => {
    const details = await compose(backendsWith(3));
    expect(details.delivery?.quotes).toHaveLength(3);
  });
});
