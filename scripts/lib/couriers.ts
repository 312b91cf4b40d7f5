// The couriers `make up` runs, in one place: scripts/up.ts starts them as processes, and the test of
// docs/interaction-styles.md starts the same three in-process, so the page's outcomes (which courier wins a
// delivery, at what price) are the ones a reader sees.

/** A courier's terms: its COURIER_ID, COURIER_MINUTES (pickup to door) and COURIER_PRICE (cents). */
export interface CourierTerms {
  readonly id: string;
  readonly minutes: number;
  readonly price: number;
}

/**
 * The couriers of `make up`. Each answers Delivery's quote requests over NATS (publish/async responses).
 * Two are equally fast; the cheaper of them, courier-3, wins every delivery while all three are up.
 */
export const MAKE_UP_COURIERS: readonly CourierTerms[] = [
  { id: "courier-1", minutes: 25, price: 450 },
  { id: "courier-2", minutes: 18, price: 650 },
  { id: "courier-3", minutes: 18, price: 550 },
];
