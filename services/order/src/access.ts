// Object-level authorization at Order itself, not only at the edge: in the secure mode a caller with a valid
// certificate is admitted to OrderService by the access table (proto/access.json), and this decides whose
// orders it may touch, from the end user the call acts for (actingFor: the gateway's signed claim, or a
// learner's certificate name). A consumer orders and reads only for themselves, whoever relays the call; a
// call that speaks for no end user (a service's own certificate) touches no order. In the learner's mode
// every call acts for anyone, so nothing here refuses anything.
import { Code } from "@connectrpc/connect";
import type { Order } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { type ActingFor, actingFor, currentCall, DomainError, NotFoundError } from "@ftgo/platform";

/** The call may not do this, whoever it is (its end user is the wrong one, or there is none). → PERMISSION_DENIED */
export class PermissionDeniedError extends DomainError {
  override readonly name = "PermissionDeniedError";
  readonly code = Code.PermissionDenied;
}

type Someone = Exclude<ActingFor, { kind: "nobody" }>;

/** Whose orders the current call may act on; a call that acts for nobody is refused here, whatever it asks. */
export function actingEndUser(): Someone {
  const who = actingFor(currentCall());
  if (who.kind === "nobody") {
    throw new PermissionDeniedError(
      "a verified end user is required: call through the gateway as a signed-in user, or with a learner's or the admin's certificate",
    );
  }
  return who;
}

/** CreateOrder: a consumer places orders only for themselves. */
export function requireMayOrderFor(consumerId: string): void {
  const who = actingEndUser();
  if (who.kind === "consumer" && who.consumerId !== consumerId) {
    throw new PermissionDeniedError(`${who.consumerId} may not order for ${consumerId || "no consumer"}`);
  }
}

/**
 * GetOrder, WatchOrder, CancelOrder: another consumer's order is answered exactly like a missing one, as the
 * gateway answers it, so a caller cannot learn which order ids exist. Returns the order when it may be seen.
 */
export function requireMayRead(order: Order | undefined, orderId: string): Order {
  const who = actingEndUser();
  if (!order || (who.kind === "consumer" && who.consumerId !== order.consumerId)) {
    throw new NotFoundError(`order ${orderId} not found`);
  }
  return order;
}

/**
 * ListOrders: whose orders to list. Its consumer_id empty means "every order" to whoever may read anyone's;
 * to a consumer it means "mine", what a person asking for their orders expects, so it is filled in. A
 * consumer naming another consumer is refused rather than shown an empty page: an empty page would read as
 * "they have no orders", which is not the answer.
 */
export function consumerToList(consumerId: string): string {
  const who = actingEndUser();
  if (who.kind === "anyone") return consumerId;
  if (consumerId !== "" && consumerId !== who.consumerId) {
    throw new PermissionDeniedError(`${who.consumerId} may not list the orders of ${consumerId}`);
  }
  return who.consumerId;
}
