// Accounting Service's saga steps, each beside its compensating transaction.
//
// A saga is a sequence of local transactions: each step below updates data within Accounting Service only,
// in the one ACID transaction that also records the message that triggered it, and publishes a message
// when it completes; that message triggers the next step in the saga. Create Order's step 4 is Accounting's:
// "Authorize consumer's credit card". It consumes OrderCreated and creates a CreditCardAuthorization in a
// PENDING state; once TicketCreated and ConsumerVerified are in too, it charges the consumer's credit card
// and publishes CreditCardAuthorized (or CreditCardAuthorizationFailed, which starts the compensations).
//
// Sagas use compensating transactions to roll back changes: when a later step fails, the effects of the
// earlier ones must be undone. Accounting's are `cancelAuthorization` (another step failed before the card
// was charged) and `reverseAuthorization` (Cancel Order: the charge is refunded). saga.ts says which message,
// in which saga mode, calls which of these; store.ts only keeps the rows.
import {
  CreditCardAuthorizationCancelledSchema,
  CreditCardAuthorizationFailedSchema,
  CreditCardAuthorizationReversedSchema,
  CreditCardAuthorizedSchema,
} from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { type MessageContext, money, sagaStep } from "@ftgo/platform";
import type { Account, AccountingStore, AuthorizationFacts, OrderToPay } from "./store.js";

/** What step 4 did when it ran: nothing yet (still waiting for a fact, or already decided), or the outcome. */
export type AuthorizationOutcome = "waiting" | "AUTHORIZED" | "DECLINED";

/**
 * Create Order step 4: once the order, its ticket and its consumer are all known good, charge the card
 * once. Each of the three facts calls this as it arrives; only the last one finds all three in, and a fact
 * arriving again (a duplicate, or a late one) finds the authorization no longer PENDING.
 */
export const authorizeCardWhenReady = sagaStep(
  "Accounting.authorizeCard",
  function authorizeCardWhenReady(store: AccountingStore, orderId: string, ctx: MessageContext): AuthorizationOutcome {
    const auth = store.factsOf(orderId);
    if (!auth || !readyToCharge(auth)) return "waiting";
    const account = store.findAccount(auth.consumerId);
    const declined = whyCardIsDeclined(auth.consumerId, account);
    store.recordCardCharge({ ...ledgerLine(auth, account), kind: "charge", approved: !declined });
    if (declined) {
      store.transition(orderId, "PENDING", "DECLINED", declined, ctx.messageId);
      ctx.publish(CreditCardAuthorizationFailedSchema, { orderId, reason: declined });
      return "DECLINED";
    }
    store.transition(orderId, "PENDING", "AUTHORIZED", "", ctx.messageId);
    ctx.publish(CreditCardAuthorizedSchema, {
      orderId,
      consumerId: auth.consumerId,
      amount: money(auth.amountMinor, auth.currency),
    });
    return "AUTHORIZED";
  },
);

/** Compensation of step 4 before the charge: a step failed elsewhere, so the authorization is CANCELLED. */
export const cancelAuthorization = sagaStep(
  "Accounting.cancelAuthorization",
  function cancelAuthorization(store: AccountingStore, orderId: string, reason: string, ctx: MessageContext) {
    // The failure may overtake OrderCreated (another stream): the authorization is opened to be cancelled,
    // so that the facts arriving later find it CANCELLED and never charge the card.
    store.recordFacts(orderId, {}, ctx.messageId);
    return store.transition(orderId, "PENDING", "CANCELLED", reason, ctx.messageId);
  },
  { compensation: true },
);

/** Cancel Order's compensation of step 4: AUTHORIZED → REVERSED, the charge refunded, and announced. */
export const reverseAuthorization = sagaStep(
  "Accounting.reverseAuthorization",
  function reverseAuthorization(store: AccountingStore, orderId: string, ctx: MessageContext): boolean {
    if (!refund(store, orderId, "order cancelled", ctx.messageId)) return false;
    ctx.publish(CreditCardAuthorizationReversedSchema, { orderId });
    return true;
  },
  { compensation: true },
);

/** Step 4's three triggers under choreography, one per stream; each may be the one that completes it. */
export function noteOrderCreated(store: AccountingStore, order: OrderToPay, ctx: MessageContext) {
  store.recordFacts(order.orderId, { order }, ctx.messageId);
  return authorizeCardWhenReady(store, order.orderId, ctx);
}
export function noteTicketCreated(store: AccountingStore, orderId: string, ctx: MessageContext) {
  store.recordFacts(orderId, { ticketCreated: true }, ctx.messageId);
  return authorizeCardWhenReady(store, orderId, ctx);
}
export function noteConsumerVerified(store: AccountingStore, orderId: string, ctx: MessageContext) {
  store.recordFacts(orderId, { consumerVerified: true }, ctx.messageId);
  return authorizeCardWhenReady(store, orderId, ctx);
}

/** Step 4 under orchestration: the orchestrator asks only once the consumer is verified and the ticket created. */
export const authorizeCard = sagaStep(
  "Accounting.authorizeCard",
  function authorizeCard(store: AccountingStore, order: OrderToPay, ctx: MessageContext) {
    store.recordFacts(order.orderId, { order, ticketCreated: true, consumerVerified: true }, ctx.messageId);
    return authorizeCardWhenReady(store, order.orderId, ctx);
  },
);

/**
 * Orchestration's compensation when AuthorizeCard went unanswered: whatever happened, the order ends up not
 * charged (AUTHORIZED → REVERSED with a refund, PENDING or unknown → CANCELLED), and
 * CreditCardAuthorizationCancelled is replied. True when a charge was refunded.
 */
export const voidAuthorization = sagaStep(
  "Accounting.voidAuthorization",
  function voidAuthorization(store: AccountingStore, orderId: string, reason: string, ctx: MessageContext) {
    const refunded = refund(store, orderId, reason, ctx.messageId);
    if (!refunded) cancelAuthorization(store, orderId, reason, ctx);
    ctx.reply(CreditCardAuthorizationCancelledSchema, { orderId, refunded });
    return refunded;
  },
  { compensation: true },
);

/** The card is charged only for a PENDING authorization whose order, ticket and consumer are all in. */
export function readyToCharge(auth: AuthorizationFacts): boolean {
  return auth.state === "PENDING" && auth.orderKnown && auth.ticketCreated && auth.consumerVerified;
}

/**
 * The (simulated) card network's answer: why the card is declined, or undefined when it pays. A consumer
 * without an account has no card on file; the seed's c-1002 has a card that always declines.
 */
export function whyCardIsDeclined(consumerId: string, account: Account | undefined): string | undefined {
  if (!account) return `consumer ${consumerId} has no card on file`;
  if (account.alwaysDeclines) return `card ending ${account.cardLast4} was declined`;
  return undefined;
}

/** AUTHORIZED → REVERSED with the refund in the ledger; false when there was no charge to refund. */
function refund(store: AccountingStore, orderId: string, reason: string, messageId: string): boolean {
  const auth = store.factsOf(orderId);
  if (!auth || !store.transition(orderId, "AUTHORIZED", "REVERSED", reason, messageId)) return false;
  const line = ledgerLine(auth, store.findAccount(auth.consumerId));
  store.recordCardCharge({ ...line, kind: "reversal", approved: true, amountMinor: -line.amountMinor });
  return true;
}

function ledgerLine(auth: AuthorizationFacts, account: Account | undefined) {
  const { orderId, consumerId, amountMinor, currency } = auth;
  return { orderId, consumerId, cardLast4: account?.cardLast4 ?? "", amountMinor, currency };
}
