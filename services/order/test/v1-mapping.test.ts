// v1 as a view of the v2 model: every state by its name, v1's one `reason` from whichever of v2's two
// applies, v1's bool from v2's price source, and nothing of what only v2 knows.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { OrderState as OrderStateV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderSchema, OrderState, PriceSource } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { money } from "@ftgo/platform";
import { describe, expect, it } from "vitest";
import { fromV1CreateOrder, toV1Order } from "../src/v1/mapping.js";

const v2Order = (
  fields: Omit<Exclude<MessageInitShape<typeof OrderSchema>, { $typeName: string }>, "$typeName"> = {},
) =>
  create(OrderSchema, {
    orderId: "o-1",
    idempotencyKey: "k-1",
    consumerId: "c-1001",
    restaurantId: "r-1",
    lineItems: [
      {
        menuItemId: "m-1",
        name: "Pho bo",
        quantity: 1,
        price: money(650),
        total: money(650),
        specialInstructions: "no peanuts",
      },
    ],
    total: money(650),
    priceSource: PriceSource.CURRENT_MENU,
    delivery: { address: { street1: "1 Main St", city: "Oakland", postalCode: "94611" } },
    state: OrderState.APPROVED,
    ...fields,
  });

describe("toV1Order", () => {
  it.each(Object.keys(OrderStateV1).filter((k) => Number.isNaN(Number(k))))("maps the state %s by its name", (name) => {
    const state = OrderState[name as keyof typeof OrderState];
    expect(OrderStateV1[toV1Order(v2Order({ state })).state]).toBe(name);
  });

  it("gives v1 the rejection reason of a rejected order", () => {
    const order = v2Order({ state: OrderState.REJECTED, rejectionReason: "card ending 0002 was declined" });
    expect(toV1Order(order).reason).toBe("card ending 0002 was declined");
  });

  it("gives v1 the refusal reason of an order whose cancel was refused", () => {
    const order = v2Order({
      state: OrderState.APPROVED,
      cancelRefusalReason: "the restaurant has accepted the ticket",
    });
    expect(toV1Order(order).reason).toBe("the restaurant has accepted the ticket");
  });

  it.each([
    [PriceSource.CURRENT_MENU, false],
    [PriceSource.LAST_KNOWN_MENU, true],
  ])("reads v1's priced_from_last_known_menu off price source %i", (priceSource, stale) => {
    expect(toV1Order(v2Order({ priceSource })).pricedFromLastKnownMenu).toBe(stale);
  });

  it("leaves out the key, the delivery and the kitchen's notes: v1 has no field for them", () => {
    const v1 = toV1Order(v2Order());
    expect(v1.$unknown).toBeUndefined();
    expect(Object.keys(v1.lineItems[0] ?? {})).not.toContain("specialInstructions");
    expect(Object.keys(v1)).not.toContain("delivery");
  });
});

describe("fromV1CreateOrder", () => {
  it("asks for an order without key, delivery or notes: v1's defaults", () => {
    const placed = fromV1CreateOrder({
      $typeName: "ftgo.order.v1.CreateOrderRequest",
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [],
    });
    expect(placed).toEqual({ consumerId: "c-1001", restaurantId: "r-1", lineItems: [] });
  });
});
