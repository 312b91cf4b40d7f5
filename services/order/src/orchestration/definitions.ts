// The Create Order and Cancel Order sagas as state machines (the seed's figure 4.7). Each state that
// waits names the command it sends on entry, to whom, the replies it accepts and the state each leads
// to, and what an overdue reply means: compensate (the step may or may not have happened, so undo it),
// or keep waiting (the step cannot fail any more: it is past the saga's pivot, the card payment). The
// final states name what the orchestrator does to its own order: approve it, reject it with the
// reason, complete or refuse the cancel. The engine (orchestrator.ts) only follows these tables; every
// transition a saga can make is one of the replies or timeouts written here.
//
//   CreateOrderSaga:
//   VERIFYING_CONSUMER ─ConsumerVerified→ CREATING_TICKET ─TicketCreated→ AUTHORIZING_CARD ─CreditCardAuthorized→
//   APPROVING_TICKET ─TicketApproved→ APPROVED (the order is approved)
//     ConsumerVerificationFailed / timeout ───────────────────────────────────────────→ REJECTED
//     TicketCreationFailed ─────────────────────────────────────────────────────────────→ REJECTED
//     CREATING_TICKET timeout ───────────────────────────────────→ REJECTING_TICKET ─TicketRejected→ REJECTED
//     CreditCardAuthorizationFailed ─────────────────────────────→ REJECTING_TICKET
//     AUTHORIZING_CARD timeout → CANCELLING_AUTHORIZATION ─CreditCardAuthorizationCancelled→ REJECTING_TICKET
//   (a compensation unconfirmed in time moves on: its command is durable and applies when handled)
//
//   CancelOrderSaga:
//   CANCELLING_TICKET ─TicketCancelled→ REVERSING_AUTHORIZATION ─CreditCardAuthorizationReversed→ CANCELLED
//     TicketCancellationRefused ────────────────────────────────→ CANCEL_REFUSED (the order stays APPROVED)
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import {
  AuthorizeCardSchema,
  CancelAuthorizationSchema,
  ReverseAuthorizationSchema,
} from "@ftgo/gen/ftgo/accounting/v1/commands_pb.js";
import {
  CreditCardAuthorizationCancelledSchema,
  CreditCardAuthorizationFailedSchema,
  CreditCardAuthorizationReversedSchema,
  CreditCardAuthorizedSchema,
} from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { VerifyConsumerSchema } from "@ftgo/gen/ftgo/consumer/v1/commands_pb.js";
import { ConsumerVerificationFailedSchema, ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import {
  ApproveTicketSchema,
  CancelTicketSchema,
  CreateTicketSchema,
  RejectTicketSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/commands_pb.js";
import {
  TicketApprovedSchema,
  TicketCancellationRefusedSchema,
  TicketCancelledSchema,
  TicketCreatedSchema,
  TicketCreationFailedSchema,
  TicketRejectedSchema,
} from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import type { Order } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import type { MessageContext } from "@ftgo/platform";
import { countEnd } from "../outcomes.js";
import { approveOrder, completeCancel, refuseCancel, rejectOrder } from "../steps.js";

/** The mode every saga defined here runs in, for the outcome counts. */
const MODE = "orchestration";

import type { OrderStore } from "../store.js";

/** A reply a waiting state accepts, and the state it leads to. */
export interface Reply {
  readonly schema: DescMessage;
  readonly to: string;
  /** A failure: the reply's `reason` becomes the saga's, and the reason the order is rejected with. */
  readonly failure: boolean;
}

/** A state that sends a command and waits for its reply. */
export interface WaitingState {
  /** How logs and reasons name the step: "verifying consumer". */
  readonly step: string;
  /** The participant the command goes to. */
  readonly participant: string;
  /** The command's type… */
  readonly sends: DescMessage;
  /** …and its body, from the order (and the saga's reason, for a compensation). */
  readonly message: (order: Order, reason: string) => MessageInitShape<DescMessage>;
  /** The replies accepted here, by type name. */
  readonly replies: ReadonlyMap<string, Reply>;
  /**
   * An overdue reply. `compensateTo`: the step failed, with a reason naming it; the saga compensates.
   * `proceedTo`: a compensation went unconfirmed; its command stays in the participant's channel and
   * takes effect when the participant handles it (channels keep order per order id), so the saga moves
   * on. `wait`: the step cannot fail any more; keep waiting (and say so in the saga's history).
   */
  readonly onTimeout: { readonly compensateTo: string } | { readonly proceedTo: string } | "wait";
}

/** A state that ends the saga, and what it does to the order (in the same transaction). */
export type FinalState = (store: OrderStore, orderId: string, reason: string, ctx: MessageContext) => void;

export interface SagaDefinition {
  readonly type: string;
  readonly initial: string;
  readonly waiting: Readonly<Record<string, WaitingState>>;
  readonly final: Readonly<Record<string, FinalState>>;
}

/** A waiting state, its command's body typed by the command's schema. */
function waiting<T extends DescMessage>(state: {
  step: string;
  participant: string;
  sends: T;
  message: (order: Order, reason: string) => MessageInitShape<T>;
  replies: readonly Reply[];
  onTimeout: WaitingState["onTimeout"];
}): WaitingState {
  const { message, replies, ...rest } = state;
  return {
    ...rest,
    message: message as WaitingState["message"],
    replies: new Map(replies.map((reply) => [reply.schema.typeName, reply])),
  };
}
/** A reply that moves the saga on to `to`. */
const ok = (schema: DescMessage, to: string): Reply => ({ schema, to, failure: false });
/** A reply saying the step failed, with its reason: the saga goes to `to` to compensate or end. */
const fails = (schema: DescMessage, to: string): Reply => ({ schema, to, failure: true });

export const CREATE_ORDER_SAGA: SagaDefinition = {
  type: "CreateOrderSaga",
  initial: "VERIFYING_CONSUMER",
  waiting: {
    VERIFYING_CONSUMER: waiting({
      step: "verifying consumer",
      participant: "consumer",
      sends: VerifyConsumerSchema,
      message: (order) => ({ orderId: order.orderId, consumerId: order.consumerId }),
      replies: [ok(ConsumerVerifiedSchema, "CREATING_TICKET"), fails(ConsumerVerificationFailedSchema, "REJECTED")],
      onTimeout: { compensateTo: "REJECTED" }, // verifying changed nothing: nothing to undo
    }),
    CREATING_TICKET: waiting({
      step: "creating ticket",
      participant: "kitchen",
      sends: CreateTicketSchema,
      message: (order) => ({
        orderId: order.orderId,
        restaurantId: order.restaurantId,
        lineItems: order.lineItems.map(({ menuItemId, name, quantity }) => ({ menuItemId, name, quantity })),
      }),
      // TicketCreationFailed: Kitchen rejected its own ticket, nothing to undo.
      replies: [ok(TicketCreatedSchema, "AUTHORIZING_CARD"), fails(TicketCreationFailedSchema, "REJECTED")],
      onTimeout: { compensateTo: "REJECTING_TICKET" }, // the ticket may exist by now, or later
    }),
    AUTHORIZING_CARD: waiting({
      step: "authorizing card",
      participant: "accounting",
      sends: AuthorizeCardSchema,
      message: (order) => ({ orderId: order.orderId, consumerId: order.consumerId, amount: order.total }),
      replies: [
        ok(CreditCardAuthorizedSchema, "APPROVING_TICKET"),
        fails(CreditCardAuthorizationFailedSchema, "REJECTING_TICKET"),
      ],
      onTimeout: { compensateTo: "CANCELLING_AUTHORIZATION" }, // the card may have been charged
    }),
    APPROVING_TICKET: waiting({
      step: "approving ticket",
      participant: "kitchen",
      sends: ApproveTicketSchema,
      message: (order) => ({ orderId: order.orderId }),
      replies: [ok(TicketApprovedSchema, "APPROVED")],
      onTimeout: "wait", // past the pivot: the card is paid, the ticket will be approved
    }),
    CANCELLING_AUTHORIZATION: waiting({
      step: "cancelling authorization",
      participant: "accounting",
      sends: CancelAuthorizationSchema,
      message: (order, reason) => ({ orderId: order.orderId, reason }),
      replies: [ok(CreditCardAuthorizationCancelledSchema, "REJECTING_TICKET")],
      onTimeout: { proceedTo: "REJECTING_TICKET" },
    }),
    REJECTING_TICKET: waiting({
      step: "rejecting ticket",
      participant: "kitchen",
      sends: RejectTicketSchema,
      message: (order, reason) => ({ orderId: order.orderId, reason }),
      replies: [ok(TicketRejectedSchema, "REJECTED")],
      onTimeout: { proceedTo: "REJECTED" },
    }),
  },
  final: {
    APPROVED: (store, orderId, _reason, ctx) =>
      countEnd(approveOrder(store, orderId, ctx), MODE, { saga: "create_order", outcome: "approved" }),
    REJECTED: (store, orderId, reason, ctx) =>
      countEnd(rejectOrder(store, orderId, reason, ctx), MODE, { saga: "create_order", outcome: "rejected", reason }),
  },
};

export const CANCEL_ORDER_SAGA: SagaDefinition = {
  type: "CancelOrderSaga",
  initial: "CANCELLING_TICKET",
  waiting: {
    CANCELLING_TICKET: waiting({
      step: "cancelling ticket",
      participant: "kitchen",
      sends: CancelTicketSchema,
      message: (order) => ({ orderId: order.orderId }),
      replies: [
        ok(TicketCancelledSchema, "REVERSING_AUTHORIZATION"),
        fails(TicketCancellationRefusedSchema, "CANCEL_REFUSED"),
      ],
      onTimeout: "wait", // a cancel waits for the kitchen rather than guess
    }),
    REVERSING_AUTHORIZATION: waiting({
      step: "reversing authorization",
      participant: "accounting",
      sends: ReverseAuthorizationSchema,
      message: (order) => ({ orderId: order.orderId }),
      replies: [ok(CreditCardAuthorizationReversedSchema, "CANCELLED")],
      onTimeout: "wait",
    }),
  },
  final: {
    CANCELLED: (store, orderId, _reason, ctx) =>
      countEnd(completeCancel(store, orderId, ctx), MODE, { saga: "cancel_order", outcome: "cancelled" }),
    CANCEL_REFUSED: (store, orderId, reason, ctx) =>
      countEnd(refuseCancel(store, orderId, reason, ctx), MODE, { saga: "cancel_order", outcome: "refused", reason }),
  },
};

export const SAGA_DEFINITIONS = [CREATE_ORDER_SAGA, CANCEL_ORDER_SAGA] as const;

/** Every reply type some saga accepts, once each: what the orchestrator subscribes to. */
export const REPLY_SCHEMAS: readonly DescMessage[] = [
  ...new Map(
    SAGA_DEFINITIONS.flatMap((definition) =>
      Object.values(definition.waiting).flatMap((state) => [...state.replies.values()].map((r) => r.schema)),
    ).map((schema) => [schema.typeName, schema]),
  ).values(),
];
