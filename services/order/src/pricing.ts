import { create } from "@bufbuild/protobuf";
import type { Money } from "@ftgo/gen/ftgo/common/v1/money_pb.js";
import type { GetMenuResponse } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { type OrderLineItem, OrderLineItemSchema } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { DEFAULT_CURRENCY, money, NotFoundError } from "@ftgo/platform";

/** A priced order: what the consumer asked for, at the menu's prices. */
export interface PricedLines {
  readonly lineItems: OrderLineItem[];
  readonly total: Money;
}

/** One requested line, in either version's words: v1's lines have no special instructions. */
export interface RequestedLine {
  readonly menuItemId: string;
  readonly quantity: number;
  readonly specialInstructions?: string;
}

/**
 * Prices the requested lines from the restaurant's menu. A menu item that is not on this restaurant's
 * menu is NOT_FOUND, naming the line. Money stays in integer minor units throughout.
 */
export function priceLineItems(menu: GetMenuResponse, requested: readonly RequestedLine[]): PricedLines {
  const byId = new Map(menu.menuItems.map((item) => [item.menuItemId, item]));
  const restaurantId = menu.restaurant?.restaurantId ?? "";
  let total = 0n;
  const lineItems = requested.map((line, i) => {
    const item = byId.get(line.menuItemId);
    if (!item) {
      throw new NotFoundError(
        `line_items[${i}].menu_item_id: ${line.menuItemId} is not on the menu of restaurant ${restaurantId}`,
      );
    }
    const unit = item.price?.minorUnits ?? 0n;
    const lineTotal = unit * BigInt(line.quantity);
    total += lineTotal;
    return create(OrderLineItemSchema, {
      menuItemId: item.menuItemId,
      name: item.name,
      quantity: line.quantity,
      price: money(unit, item.price?.currencyCode || DEFAULT_CURRENCY),
      total: money(lineTotal, item.price?.currencyCode || DEFAULT_CURRENCY),
      specialInstructions: line.specialInstructions ?? "",
    });
  });
  return { lineItems, total: money(total) };
}
