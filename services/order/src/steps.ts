// Order Service's saga steps, each beside its compensating transaction.
//
// A saga is a sequence of local transactions: each step updates data within Order Service only, in the one
// ACID transaction that also records the message that triggered it, and publishes a message when it
// completes. Create Order starts here (step 1, "create an Order in an APPROVAL_PENDING state", is the
// CreateOrder RPC's transaction: store.createPending) and ends here: step 6, "change the state of the Order
// to APPROVED" (`approveOrder`), once the card is authorized.
//
// Sagas use compensating transactions to roll back changes: when any step fails, the effects of the
// earlier ones must be undone, and Order's own is `rejectOrder` (APPROVAL_PENDING → REJECTED, with the
// failed step's reason). Cancel Order (started by the CancelOrder RPC: store.requestCancel) ends with
// `completeCancel`, or with `refuseCancel` when the restaurant had already accepted the ticket. The same
// steps end both saga modes: saga.ts wires them to events, orchestration/definitions.ts to the
// orchestrator's final states.
import {
  OrderApprovedSchema,
  OrderCancelledSchema,
  OrderCancelRefusedSchema,
  OrderRejectedSchema,
} from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { type MessageContext, sagaStep } from "@ftgo/platform";
import type { OrderStore } from "./store.js";

/** Create Order step 6: every earlier step has succeeded, so the order is APPROVED. */
export const approveOrder = sagaStep(
  "Order.approveOrder",
  function approveOrder(store: OrderStore, orderId: string, ctx: MessageContext): boolean {
    if (!store.approve(orderId, ctx)) return false;
    ctx.publish(OrderApprovedSchema, { orderId });
    return true;
  },
);

/**
 * Compensation of step 1: a step failed, so the order is REJECTED with that step's reason. A second failure
 * (the other participants fail on the same events) finds the order already REJECTED and changes nothing.
 */
export const rejectOrder = sagaStep(
  "Order.rejectOrder",
  function rejectOrder(store: OrderStore, orderId: string, reason: string, ctx: MessageContext): boolean {
    if (!store.reject(orderId, reason, ctx)) return false;
    ctx.publish(OrderRejectedSchema, { orderId, reason });
    return true;
  },
  { compensation: true },
);

/** Cancel Order's end: the ticket was cancelled and the charge reversed, so the order is CANCELLED. */
export const completeCancel = sagaStep(
  "Order.completeCancel",
  function completeCancel(store: OrderStore, orderId: string, ctx: MessageContext): boolean {
    if (!store.completeCancel(orderId, ctx)) return false;
    ctx.publish(OrderCancelledSchema, { orderId });
    return true;
  },
);

/** Cancel Order refused: the restaurant had already accepted the ticket, so the order stays APPROVED. */
export const refuseCancel = sagaStep(
  "Order.refuseCancel",
  function refuseCancel(store: OrderStore, orderId: string, reason: string, ctx: MessageContext): boolean {
    if (!store.refuseCancel(orderId, reason, ctx)) return false;
    ctx.publish(OrderCancelRefusedSchema, { orderId, reason });
    return true;
  },
);
