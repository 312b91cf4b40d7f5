/**
 * The fixed seed payment accounts of Accounting Service, documented in the README. c-1002's card is
 * always declined, so the saga's "card authorization failed" compensation can be run on demand.
 * Only the last four digits are stored: a teaching system has no business holding card numbers.
 */
export const SEED_ACCOUNTS = [
  { consumerId: "c-1001", cardLast4: "4242", alwaysDeclines: false },
  { consumerId: "c-1002", cardLast4: "0002", alwaysDeclines: true },
  { consumerId: "c-1003", cardLast4: "1881", alwaysDeclines: false },
] as const;
