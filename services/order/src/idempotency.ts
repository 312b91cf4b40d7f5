// An idempotent CreateOrder (ftgo.order.v2). A client that did not hear the answer cannot tell a lost
// request from a lost reply, so it repeats the call; with an idempotency key of its own choosing, the
// repeat returns the order the first call created instead of creating a second one (and a second saga,
// and a second charge). The key is checked twice: before pricing, so that a repeat costs no call to
// Kitchen, and again inside the transaction that creates the order, because two calls with one key can
// both be past the first check while Kitchen prices them. The UNIQUE index on (consumer_id, key) is the
// backstop for a writer this process cannot see. A key is its consumer's, not global: another consumer's
// equal key names another order, and is neither refused nor told that the key was used before.
import { createHash } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { type CreateOrderRequest, CreateOrderRequestSchema, type Order } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { InvalidArgumentError } from "@ftgo/platform";
import type { IdempotencyKey, NewOrder, OrderStore } from "./store.js";

/**
 * The request's key, the consumer it belongs to, and a fingerprint of everything else in the request: the
 * same consumer's key with the same request is a repeat, with another request a client's mistake. The
 * fingerprint hashes the request's binary form, which protobuf-es writes in field-number order, so equal
 * requests hash alike.
 */
export function idempotencyKeyOf(request: CreateOrderRequest): IdempotencyKey {
  const rest = toBinary(CreateOrderRequestSchema, { ...request, idempotencyKey: "" }, { writeUnknownFields: false });
  return {
    consumerId: request.consumerId,
    key: request.idempotencyKey,
    fingerprint: createHash("sha256").update(rest).digest("base64url"),
  };
}

/**
 * The order a consumer's key has already created, as it is now; undefined for a key new to that consumer
 * (whatever other consumers did with it). INVALID_ARGUMENT, naming the key, when the consumer sent it with
 * a different request: answering with that other order would hide the client's bug, and creating a new one
 * would break the promise the key makes.
 */
export function firstOrderFor(store: OrderStore, idempotency: IdempotencyKey): Order | undefined {
  const first = store.findByIdempotencyKey(idempotency.consumerId, idempotency.key);
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
 * nothing and returns the first order: the check and the insert share one transaction. It begins
 * IMMEDIATE, taking the database's write lock before it reads, because scaled-out instances of Order
 * share one database: a second instance's transaction waits for the first one's commit and then finds
 * its key, where a deferred one could read before that commit and then fail to write (SQLITE_BUSY).
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
      return once.immediate(order);
    } catch (err) {
      // Another writer inserted this consumer's key between this transaction's read and its write: it won.
      const first = order.idempotency && isUniqueViolation(err) ? firstOrderFor(store, order.idempotency) : undefined;
      if (first) return { order: first, created: false };
      throw err;
    }
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE";
}
