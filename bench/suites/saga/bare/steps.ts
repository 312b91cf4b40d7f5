// The bare pipeline's saga steps, the happy path of Create Order only: what each participant writes when
// a message arrives and what it sends next, as in services/*/src/steps.ts but with no business rule that
// can refuse (the bench only places orders that succeed), so no compensations.
import { randomUUID } from "node:crypto";
import { create, type DescMessage, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { CreditCardAuthorizedSchema } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { TicketApprovedSchema, TicketCreatedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { OrderApprovedSchema, OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import type { BareStore, Outgoing } from "./store.js";
import { type BareParticipant, SUBJECTS } from "./topology.js";

/** A step: the message's body in, this participant's writes done through `store`, the messages to send out. */
type Step = (store: BareStore, body: Uint8Array) => readonly Outgoing[];

/** Accounting's three facts: the card is charged once all three are in, whatever order they came in. */
const ORDER_KNOWN = 1;
const TICKET_CREATED = 2;
const CONSUMER_VERIFIED = 4;
const ALL_FACTS = ORDER_KNOWN | TICKET_CREATED | CONSUMER_VERIFIED;

/** Each participant's steps, by the subject that triggers them. */
export const STEPS: Readonly<Record<BareParticipant, Readonly<Record<string, Step>>>> = {
  order: {
    // Step 6: the card is authorized, so the order is approved.
    [SUBJECTS.cardAuthorized]: (store, body) => {
      const { orderId } = fromBinary(CreditCardAuthorizedSchema, body);
      if (!transition(store, orderId, "APPROVAL_PENDING", "APPROVED")) return [];
      return [message(SUBJECTS.orderApproved, OrderApprovedSchema, { orderId })];
    },
  },
  consumer: {
    // Step 2: the consumer is verified.
    [SUBJECTS.orderCreated]: (store, body) => {
      const { orderId, consumerId } = fromBinary(OrderCreatedSchema, body);
      store.save({ order_id: orderId, state: "VERIFIED", facts: 0, consumer_id: consumerId, amount_minor: 0 });
      return [message(SUBJECTS.consumerVerified, ConsumerVerifiedSchema, { orderId, consumerId })];
    },
  },
  kitchen: {
    // Step 3: the ticket is created CREATE_PENDING.
    [SUBJECTS.orderCreated]: (store, body) => {
      const { orderId, restaurantId } = fromBinary(OrderCreatedSchema, body);
      store.save({ order_id: orderId, state: "CREATE_PENDING", facts: 0, consumer_id: "", amount_minor: 0 });
      return [message(SUBJECTS.ticketCreated, TicketCreatedSchema, { orderId, restaurantId })];
    },
    // Step 5: the card is authorized, so the ticket awaits the restaurant's acceptance.
    [SUBJECTS.cardAuthorized]: (store, body) => {
      const { orderId } = fromBinary(CreditCardAuthorizedSchema, body);
      if (!transition(store, orderId, "CREATE_PENDING", "AWAITING_ACCEPTANCE")) return [];
      return [message(SUBJECTS.ticketApproved, TicketApprovedSchema, { orderId })];
    },
  },
  accounting: {
    // Step 4, in three parts: each fact is noted, the last one in charges the card.
    [SUBJECTS.orderCreated]: (store, body) => {
      const { orderId, consumerId, total } = fromBinary(OrderCreatedSchema, body);
      return noteFact(store, orderId, ORDER_KNOWN, {
        consumer_id: consumerId,
        amount_minor: Number(total?.minorUnits),
      });
    },
    [SUBJECTS.ticketCreated]: (store, body) =>
      noteFact(store, fromBinary(TicketCreatedSchema, body).orderId, TICKET_CREATED),
    [SUBJECTS.consumerVerified]: (store, body) =>
      noteFact(store, fromBinary(ConsumerVerifiedSchema, body).orderId, CONSUMER_VERIFIED),
  },
};

/** The Order participant's first step, taken on the bench's request rather than on a message: the order is created. */
export function createOrder(store: BareStore, body: Uint8Array): readonly Outgoing[] {
  const { orderId } = fromBinary(OrderCreatedSchema, body);
  store.save({ order_id: orderId, state: "APPROVAL_PENDING", facts: 0, consumer_id: "", amount_minor: 0 });
  return [{ messageId: randomUUID(), subject: SUBJECTS.orderCreated, orderId, body }];
}

function noteFact(
  store: BareStore,
  orderId: string,
  fact: number,
  order?: { consumer_id: string; amount_minor: number },
): readonly Outgoing[] {
  const row = store.find(orderId) ?? {
    order_id: orderId,
    state: "PENDING",
    facts: 0,
    consumer_id: "",
    amount_minor: 0,
  };
  const facts = row.facts | fact;
  const ready = row.state === "PENDING" && facts === ALL_FACTS;
  const next = { ...row, ...order, facts, state: ready ? "AUTHORIZED" : row.state };
  store.save(next);
  if (!ready) return [];
  const amount = { currencyCode: "USD", minorUnits: BigInt(next.amount_minor) };
  return [
    message(SUBJECTS.cardAuthorized, CreditCardAuthorizedSchema, { orderId, consumerId: next.consumer_id, amount }),
  ];
}

/** `from` → `to` for the order's row; false (nothing written) when the row is not in `from`. */
function transition(store: BareStore, orderId: string, from: string, to: string): boolean {
  const row = store.find(orderId);
  if (row?.state !== from) return false;
  store.save({ ...row, state: to });
  return true;
}

function message<Desc extends DescMessage>(
  subject: string,
  schema: Desc,
  init: MessageInitShape<Desc> & { orderId: string },
): Outgoing {
  return { messageId: randomUUID(), subject, orderId: init.orderId, body: toBinary(schema, create(schema, init)) };
}
