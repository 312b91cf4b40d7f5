// The Create Order and Cancel Order sagas as state machines (the seed's figure 4.7). Each state that
// waits names the command it sends on entry, to whom, the replies it accepts and the state each leads
// to, and what an overdue reply means: compensate (the step may or may not have happened, so undo it),
// or keep waiting (the step cannot fail any more: it is past the saga's pivot, the card payment). The
// final states name what the orchestrator does to its own order: approve it, reject it with the
// reason, complete or refuse the cancel. The engine (orchestrator.ts) only follows these tables.
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
import type { Order } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import type { MessageContext, Transitions } from "@ftgo/platform";
import type { OrderStore } from "../store.js";

/** A command to send: its type and body. */
export interface Command {
  readonly schema: DescMessage;
  readonly message: MessageInitShape<DescMessage>;
}

/** Where a reply (or a timeout) leads: the next state, and the failure's reason if it is one. */
export interface Next {
  readonly to: string;
  readonly reason?: string;
}

/** A state that sends a command and waits for its reply. */
export interface WaitingState {
  /** How logs and reasons name the step: "verifying consumer". */
  readonly step: string;
  /** The participant the command goes to. */
  readonly participant: string;
  readonly command: (order: Order, reason: string) => Command;
  /** Each reply type accepted here, and where it leads. */
  readonly replies: ReadonlyMap<string, (reply: { reason?: string }) => Next>;
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
  /** Every state change the definition may make, for checks and documentation. */
  readonly transitions: Transitions<string>;
}

const reply = <T extends DescMessage>(schema: T, next: (message: { reason?: string }) => Next) =>
  [schema.typeName, next] as const;
const command = <T extends DescMessage>(schema: T, message: MessageInitShape<T>): Command => ({
  schema,
  message: message as MessageInitShape<DescMessage>,
});
const failed = (to: string) => (message: { reason?: string }) => ({ to, reason: message.reason ?? "" });

export const CREATE_ORDER_SAGA: SagaDefinition = {
  type: "CreateOrderSaga",
  initial: "VERIFYING_CONSUMER",
  waiting: {
    VERIFYING_CONSUMER: {
      step: "verifying consumer",
      participant: "consumer",
      command: (order) => command(VerifyConsumerSchema, { orderId: order.orderId, consumerId: order.consumerId }),
      replies: new Map([
        reply(ConsumerVerifiedSchema, () => ({ to: "CREATING_TICKET" })),
        reply(ConsumerVerificationFailedSchema, failed("REJECTED")),
      ]),
      onTimeout: { compensateTo: "REJECTED" }, // verifying changed nothing: nothing to undo
    },
    CREATING_TICKET: {
      step: "creating ticket",
      participant: "kitchen",
      command: (order) =>
        command(CreateTicketSchema, {
          orderId: order.orderId,
          restaurantId: order.restaurantId,
          lineItems: order.lineItems.map(({ menuItemId, name, quantity }) => ({ menuItemId, name, quantity })),
        }),
      replies: new Map([
        reply(TicketCreatedSchema, () => ({ to: "AUTHORIZING_CARD" })),
        reply(TicketCreationFailedSchema, failed("REJECTED")), // Kitchen rejected its own ticket
      ]),
      onTimeout: { compensateTo: "REJECTING_TICKET" }, // the ticket may exist by now, or later
    },
    AUTHORIZING_CARD: {
      step: "authorizing card",
      participant: "accounting",
      command: (order) =>
        command(AuthorizeCardSchema, { orderId: order.orderId, consumerId: order.consumerId, amount: order.total }),
      replies: new Map([
        reply(CreditCardAuthorizedSchema, () => ({ to: "APPROVING_TICKET" })),
        reply(CreditCardAuthorizationFailedSchema, failed("REJECTING_TICKET")),
      ]),
      onTimeout: { compensateTo: "CANCELLING_AUTHORIZATION" }, // the card may have been charged
    },
    APPROVING_TICKET: {
      step: "approving ticket",
      participant: "kitchen",
      command: (order) => command(ApproveTicketSchema, { orderId: order.orderId }),
      replies: new Map([reply(TicketApprovedSchema, () => ({ to: "APPROVED" }))]),
      onTimeout: "wait", // past the pivot: the card is paid, the ticket will be approved
    },
    CANCELLING_AUTHORIZATION: {
      step: "cancelling authorization",
      participant: "accounting",
      command: (order, reason) => command(CancelAuthorizationSchema, { orderId: order.orderId, reason }),
      replies: new Map([reply(CreditCardAuthorizationCancelledSchema, () => ({ to: "REJECTING_TICKET" }))]),
      onTimeout: { proceedTo: "REJECTING_TICKET" },
    },
    REJECTING_TICKET: {
      step: "rejecting ticket",
      participant: "kitchen",
      command: (order, reason) => command(RejectTicketSchema, { orderId: order.orderId, reason }),
      replies: new Map([reply(TicketRejectedSchema, () => ({ to: "REJECTED" }))]),
      onTimeout: { proceedTo: "REJECTED" },
    },
  },
  final: {
    APPROVED: (store, orderId, _reason, ctx) => store.approve(orderId, ctx),
    REJECTED: (store, orderId, reason, ctx) => store.reject(orderId, reason, ctx),
  },
  transitions: {
    VERIFYING_CONSUMER: ["CREATING_TICKET", "REJECTED"],
    CREATING_TICKET: ["AUTHORIZING_CARD", "REJECTED", "REJECTING_TICKET"],
    AUTHORIZING_CARD: ["APPROVING_TICKET", "REJECTING_TICKET", "CANCELLING_AUTHORIZATION"],
    APPROVING_TICKET: ["APPROVED"],
    CANCELLING_AUTHORIZATION: ["REJECTING_TICKET"],
    REJECTING_TICKET: ["REJECTED"],
  },
};

export const CANCEL_ORDER_SAGA: SagaDefinition = {
  type: "CancelOrderSaga",
  initial: "CANCELLING_TICKET",
  waiting: {
    CANCELLING_TICKET: {
      step: "cancelling ticket",
      participant: "kitchen",
      command: (order) => command(CancelTicketSchema, { orderId: order.orderId }),
      replies: new Map([
        reply(TicketCancelledSchema, () => ({ to: "REVERSING_AUTHORIZATION" })),
        reply(TicketCancellationRefusedSchema, failed("CANCEL_REFUSED")),
      ]),
      onTimeout: "wait", // a cancel waits for the kitchen rather than guess
    },
    REVERSING_AUTHORIZATION: {
      step: "reversing authorization",
      participant: "accounting",
      command: (order) => command(ReverseAuthorizationSchema, { orderId: order.orderId }),
      replies: new Map([reply(CreditCardAuthorizationReversedSchema, () => ({ to: "CANCELLED" }))]),
      onTimeout: "wait",
    },
  },
  final: {
    CANCELLED: (store, orderId, _reason, ctx) => store.completeCancel(orderId, ctx),
    CANCEL_REFUSED: (store, orderId, reason, ctx) => store.refuseCancel(orderId, reason, ctx),
  },
  transitions: {
    CANCELLING_TICKET: ["REVERSING_AUTHORIZATION", "CANCEL_REFUSED"],
    REVERSING_AUTHORIZATION: ["CANCELLED"],
  },
};

export const SAGA_DEFINITIONS = [CREATE_ORDER_SAGA, CANCEL_ORDER_SAGA] as const;

/** Every reply type some saga accepts, with its schema: what the orchestrator subscribes to. */
export const REPLY_SCHEMAS: readonly DescMessage[] = [
  ConsumerVerifiedSchema,
  ConsumerVerificationFailedSchema,
  TicketCreatedSchema,
  TicketCreationFailedSchema,
  CreditCardAuthorizedSchema,
  CreditCardAuthorizationFailedSchema,
  TicketApprovedSchema,
  CreditCardAuthorizationCancelledSchema,
  TicketRejectedSchema,
  TicketCancelledSchema,
  TicketCancellationRefusedSchema,
  CreditCardAuthorizationReversedSchema,
];
