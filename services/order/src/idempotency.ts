// An idempotent CreateOrder (ftgo.order.v2). A client that did not hear the answer cannot tell a lost
// request from a lost reply, so it repeats the call; with an idempotency key of its own choosing, the
// repeat returns the order the first call created instead of creating a second one (and a second saga,
// and a second charge). The key is checked twice: before pricing, so that a repeat costs no call to
// Kitchen, and again inside the transaction that creates the order, because two calls with one key can
// both be past the first check while Kitchen prices them. The UNIQUE index on the key is the backstop
// for a writer this process cannot see.
import { createHash } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { type CreateOrderRequest, CreateOrderRequestSchema, type Order } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { InvalidArgumentError } from "@ftgo/platform";
import type { IdempotencyKey, NewOrder, OrderStore } from "./store.js";

/**
 * The request's key and a fingerprint of everything else in it: the same key with the same request is a
 * repeat, the same key with another request is a client's mistake. The fingerprint hashes the request's
 * binary form, which protobuf-es writes in field-number order, so equal requests hash alike.
 */
export function idempotencyKeyOf(request: CreateOrderRequest): IdempotencyKey {
  const rest = toBinary(CreateOrderRequestSchema, { ...request, idempotencyKey: "" }, { writeUnknownFields: false });
  return { key: request.idempotencyKey, fingerprint: createHash("sha256").update(rest).digest("base64url") };
}

/**
 * The order a key has already created, as it is now; undefined for a new key. INVALID_ARGUMENT, naming
 * the key, when the key came with a different request: answering with that other order would hide the
 * client's bug, and creating a new one would break the promise the key makes.
 */
export function firstOrderFor(store: OrderStore, idempotency: IdempotencyKey): Order | undefined {
  const first = store.findByIdempotencyKey(idempotency.key);
  if (!first) return undefined;
  if (first.fingerprint !== idempotency.fingerprint) {
    throw new InvalidArgumentError(
      `idempotency_key: ${idempotency.key} was already used with a different request; use a new key for a new order`,
    );
  }
  return first.order;
}

/** What createOrderOnce did: created the order (and started its saga), or found the key's first order. */
export interface CreatedOnce {
  readonly order: Order;
  readonly created: boolean;
}

/**
 * Wraps the start of a Create Order saga (`create`) so that an order with a key already used creates
 * nothing and returns the first order: the check and the insert share one transaction.
 */
export function createOrderOnce(
  store: OrderStore,
  create: (order: NewOrder) => Order,
): (order: NewOrder) => CreatedOnce {
  const once = store.db.transaction((order: NewOrder): CreatedOnce => {
    const first = order.idempotency && firstOrderFor(store, order.idempotency);
    return first ? { order: first, created: false } : { order: create(order), created: true };
  });
  return (order) => {
    try {
      return once(order);
    } catch (err) {
      // Another writer inserted the key between this transaction's read and its write: it won.
      const first = order.idempotency && isUniqueViolation(err) ? firstOrderFor(store, order.idempotency) : undefined;
      if (first) return { order: first, created: false };
      throw err;
    }
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE";
}
