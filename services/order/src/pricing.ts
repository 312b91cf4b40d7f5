import { create } from "@bufbuild/protobuf";
import type { Money } from "@ftgo/gen/ftgo/common/v1/money_pb.js";
import type { GetMenuResponse } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  type CreateOrderRequest,
  type LineItemRequest,
  type OrderLineItem,
  OrderLineItemSchema,
} from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { DEFAULT_CURRENCY, InvalidArgumentError, money, NotFoundError, requireField } from "@ftgo/platform";

/** Bounds that keep a typo ("quantity": 1000000) from becoming an order. */
export const MAX_LINE_ITEMS = 50;
export const MAX_QUANTITY = 100;

/**
 * Checks a CreateOrder request before anything is looked up. Each error names the field, with its
 * index for line items, so that a client can point at what to fix.
 */
export function validateCreateOrder(req: CreateOrderRequest): void {
  requireField(req.consumerId, "consumer_id");
  requireField(req.restaurantId, "restaurant_id");
  if (req.lineItems.length === 0) throw new InvalidArgumentError("line_items must contain at least one item");
  if (req.lineItems.length > MAX_LINE_ITEMS) {
    throw new InvalidArgumentError(`line_items has ${req.lineItems.length} items; at most ${MAX_LINE_ITEMS} allowed`);
  }
  req.lineItems.forEach((item, i) => {
    requireField(item.menuItemId, `line_items[${i}].menu_item_id`);
    if (item.quantity <= 0) {
      throw new InvalidArgumentError(`line_items[${i}].quantity must be positive, got ${item.quantity}`);
    }
    if (item.quantity > MAX_QUANTITY) {
      throw new InvalidArgumentError(`line_items[${i}].quantity must be at most ${MAX_QUANTITY}, got ${item.quantity}`);
    }
  });
}

/** A priced order: what the consumer asked for, at the menu's prices. */
export interface PricedLines {
  readonly lineItems: OrderLineItem[];
  readonly total: Money;
}

/**
 * Prices the requested lines from the restaurant's menu. A menu item that is not on this restaurant's
 * menu is NOT_FOUND, naming the line. Money stays in integer minor units throughout.
 */
export function priceLineItems(menu: GetMenuResponse, requested: readonly LineItemRequest[]): PricedLines {
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
    });
  });
  return { lineItems, total: money(total) };
}
