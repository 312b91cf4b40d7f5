import { create } from "@bufbuild/protobuf";
import { MoneySchema } from "@ftgo/gen/ftgo/common/v1/money_pb.js";
import {
  GetMenuRequestSchema,
  type GetMenuResponse,
  GetMenuResponseSchema,
  type MenuItem,
  MenuItemSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";

/*
 * The one call every contender makes: GetMenu for restaurant r-1, answered with r-1's seed menu (the
 * same data Kitchen Service seeds), built once so that every server sends the very same message.
 */

export const MENU_REQUEST = create(GetMenuRequestSchema, { restaurantId: "r-1" });

export const MENU_RESPONSE = create(GetMenuResponseSchema, {
  restaurant: { restaurantId: "r-1", name: "Pho Hanoi", open: true },
  menuItems: [
    menuItem("m-1", "Pho bo", 650n),
    menuItem("m-2", "Banh mi", 300n),
    menuItem("m-3", "Ca phe sua da", 200n),
  ],
});

/** Fails loudly if a contender answered with anything but the seed menu, before its figures are trusted. */
export function checkMenu(response: GetMenuResponse): void {
  const names = response.menuItems.map((item) => item.name).join(", ");
  if (response.restaurant?.restaurantId !== "r-1" || names !== "Pho bo, Banh mi, Ca phe sua da") {
    throw new Error(`unexpected GetMenu response: restaurant ${response.restaurant?.restaurantId}, items [${names}]`);
  }
}

function menuItem(menuItemId: string, name: string, minorUnits: bigint): MenuItem {
  return create(MenuItemSchema, { menuItemId, name, price: create(MoneySchema, { currencyCode: "USD", minorUnits }) });
}
