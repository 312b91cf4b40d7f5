// Publish/async responses: Delivery publishes one quote request to a publish-subscribe channel that every
// courier listens to, naming a reply subject and carrying a correlation id; each courier that is up writes
// its quote to the reply subject with that correlation id; Delivery gathers what arrives within a bounded
// window and matches each reply to its request by the correlation id.
//
// Core NATS, not JetStream: a quote is only worth something from a courier that is up right now, so
// nothing is buffered for couriers that are away. All requests of one Delivery instance share one reply
// subject (its reply inbox), so the correlation id — the order id, as on every ftgo message — is what
// tells the replies of concurrent requests apart; a reply also names, as its causation id, the request it
// answers, so that a late answer to an earlier request for the same order is not taken for a new one.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type CourierQuote,
  CourierQuoteRequestSchema,
  CourierQuoteSchema,
} from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { decodeBody, encodeBody, type Logger, MessageHeader, messageHeaders, requestSubject } from "@ftgo/platform";
import { createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node";

/**
 * The publish-subscribe channel of quote requests, declared like every channel from its message type:
 * every courier subscribes to it (no queue group), every one answers.
 */
export const COURIER_QUOTE_REQUEST_SUBJECT = requestSubject(CourierQuoteRequestSchema);

export interface QuoteGatherer {
  /** The subject replies come back on (this instance's reply inbox). */
  readonly replySubject: string;
  /**
   * Publishes `request` to every courier and resolves, after `windowMs` (or when `signal` aborts), with the
   * quotes that answered it, at most one per courier, in the order they arrived.
   */
  gather(request: QuoteRequest, windowMs: number, signal?: AbortSignal): Promise<CourierQuote[]>;
  /** Stops listening for replies. */
  close(): void;
}

/** What to ask the couriers: a CourierQuoteRequest; its order id is the correlation id. */
export type QuoteRequest = MessageInitShape<typeof CourierQuoteRequestSchema> & { readonly orderId: string };

interface Gathering {
  /** The request's message id: a reply's causation id must name it. */
  readonly requestId: string;
  readonly quotes: Map<string, CourierQuote>;
}

/**
 * Subscribes to a reply inbox of this instance's own and returns the gatherer that publishes quote
 * requests with it. Replies that match no request being gathered (late, or malformed) are logged at debug
 * and dropped.
 */
export function createQuoteGatherer({ nc, log }: { nc: NatsConnection; log: Logger }): QuoteGatherer {
  const replySubject = createInbox();
  /** Requests being gathered, by correlation id (the order id). */
  const gatherings = new Map<string, Gathering>();

  const subscription = nc.subscribe(replySubject, {
    callback: (err, msg) => {
      if (err) log.warn({ err }, "courier quote replies: subscription error");
      else receive(msg);
    },
  });

  /** Matches a reply to its request by correlation id, and keeps it if it is a quote for that order. */
  function receive(msg: Msg): void {
    // Only the two ids matter here: a courier's reply need carry no more of the ftgo header than that.
    const correlationId = msg.headers?.get(MessageHeader.CorrelationId) ?? "";
    const causationId = msg.headers?.get(MessageHeader.CausationId) ?? "";
    const gathering = gatherings.get(correlationId);
    if (!gathering || causationId !== gathering.requestId) {
      log.debug({ orderId: correlationId, causationId }, "courier quote matches no open request; dropped");
      return;
    }
    let quote: CourierQuote;
    try {
      quote = decodeBody(CourierQuoteSchema, msg.data);
    } catch (err) {
      log.warn({ orderId: correlationId, err }, "courier quote is not a valid CourierQuote; dropped");
      return;
    }
    if (quote.orderId !== correlationId || !quote.courierId || !quote.estimatedDeliveryTime || !quote.price) {
      log.warn({ orderId: correlationId, courierId: quote.courierId }, "incomplete courier quote; dropped");
      return;
    }
    if (!gathering.quotes.has(quote.courierId)) gathering.quotes.set(quote.courierId, quote);
  }

  return {
    replySubject,
    async gather(request, windowMs, signal) {
      const correlationId = request.orderId;
      if (gatherings.has(correlationId)) throw new Error(`already gathering quotes for order ${correlationId}`);
      const gathering: Gathering = { requestId: randomUUID(), quotes: new Map() };
      gatherings.set(correlationId, gathering);
      try {
        const envelope = { messageId: gathering.requestId, type: CourierQuoteRequestSchema.typeName, correlationId };
        nc.publish(COURIER_QUOTE_REQUEST_SUBJECT, encodeBody(CourierQuoteRequestSchema, request), {
          reply: replySubject,
          headers: messageHeaders(envelope),
        });
        // The window: `windowMs`, or less when `signal` aborts.
        await sleep(windowMs, undefined, { signal }).catch(() => {});
        return [...gathering.quotes.values()];
      } finally {
        gatherings.delete(correlationId);
      }
    },
    close: () => subscription.unsubscribe(),
  };
}
