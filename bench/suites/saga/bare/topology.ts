// The bare pipeline's channels: which participant publishes what on which subject, and which durable
// reads it. One JetStream stream per publishing participant (as the platform has one per domain), one
// durable per (reader, subject). Shared by the bench, which creates the streams and durables before the
// participants start, and by the participants, which only read them. No partitions: see participant.ts.

/** The participants, each its own process with its own SQLite file. */
export const BARE_PARTICIPANTS = ["order", "consumer", "kitchen", "accounting"] as const;
export type BareParticipant = (typeof BARE_PARTICIPANTS)[number];

/** The Create Order messages of the happy path, by subject. */
export const SUBJECTS = {
  orderCreated: "bare.order.order_created",
  orderApproved: "bare.order.order_approved",
  consumerVerified: "bare.consumer.consumer_verified",
  ticketCreated: "bare.kitchen.ticket_created",
  ticketApproved: "bare.kitchen.ticket_approved",
  cardAuthorized: "bare.accounting.credit_card_authorized",
} as const;

/** Core NATS request subject on which the Order participant takes new orders (the bench's CreateOrder). */
export const CREATE_ORDER_SUBJECT = "bare.create_order"; // outside every stream: a core request

/** The header carrying the order id, so the bench can see which saga a message ends. */
export const ORDER_ID_HEADER = "Ftgo-Correlation-Id";

/** Every stream: one per publishing participant, its subjects `bare.<participant>.>`. */
export const STREAMS: readonly { readonly name: string; readonly subjects: readonly string[] }[] =
  BARE_PARTICIPANTS.map((participant) => ({
    name: `BARE_${participant.toUpperCase()}`,
    subjects: [`bare.${participant}.>`],
  }));

/** What each participant reads: a durable named after it on the stream that carries the subject. */
export const READS: Readonly<Record<BareParticipant, readonly string[]>> = {
  order: [SUBJECTS.cardAuthorized],
  consumer: [SUBJECTS.orderCreated],
  kitchen: [SUBJECTS.orderCreated, SUBJECTS.cardAuthorized],
  accounting: [SUBJECTS.orderCreated, SUBJECTS.ticketCreated, SUBJECTS.consumerVerified],
};

/** The stream holding `subject`, and the name of `reader`'s durable on it. */
export function durableOf(reader: BareParticipant, subject: string): { stream: string; durable: string } {
  const publisher = subject.split(".")[1] as string;
  return { stream: `BARE_${publisher.toUpperCase()}`, durable: `${reader}-${subject.split(".")[2]}` };
}
