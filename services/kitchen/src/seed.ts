/**
 * The fixed seed data of Kitchen Service, documented in the README: acceptance tests rely on it.
 * r-1 is open; r-2 is closed, so the saga's "ticket creation failed" compensation can be run on demand.
 */
export const SEED_RESTAURANTS = [
  {
    restaurantId: "r-1",
    name: "Pho Hanoi",
    open: true,
    menu: [
      { menuItemId: "m-1", name: "Pho bo", priceMinor: 650 },
      { menuItemId: "m-2", name: "Banh mi", priceMinor: 300 },
      { menuItemId: "m-3", name: "Ca phe sua da", priceMinor: 200 },
    ],
  },
  {
    restaurantId: "r-2",
    name: "Bun Cha Corner",
    open: false,
    menu: [{ menuItemId: "m-10", name: "Bun cha", priceMinor: 500 }],
  },
] as const;
