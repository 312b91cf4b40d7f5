/**
 * The fixed seed consumers of Consumer Service, documented in the README. c-1003 is suspended, so the
 * saga's "consumer verification failed" compensation can be run on demand. (c-1002's declined card
 * lives in Accounting Service: card data is not Consumer's business.)
 */
export const SEED_CONSUMERS = [
  { consumerId: "c-1001", name: "Ana Nguyen", state: "ACTIVE" },
  { consumerId: "c-1002", name: "Ben Tran", state: "ACTIVE" },
  { consumerId: "c-1003", name: "Chi Le", state: "SUSPENDED" },
] as const;
