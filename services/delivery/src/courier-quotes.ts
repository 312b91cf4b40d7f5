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
//
// Anyone on the broker can write to the reply subject, so a gathering is bounded: at most one quote per
// courier (the first; later ones change nothing), at most `maxQuotes` in all (the window ends as soon as
// that many arrived: the rest of a flood finds no open request), and only quotes that pass quote-rules.ts.
// What was dropped is logged once per gathering, not once per quote, so a flood cannot flood the log too.
import { randomUUID } from "node:crypto";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type CourierQuote,
  CourierQuoteRequestSchema,
  CourierQuoteSchema,
} from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import {
  createPause,
  decodeBody,
  encodeBody,
  type Logger,
  MessageHeader,
  messageHeaders,
  requestSubject,
} from "@ftgo/platform";
import { type ConnectionOptions, createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { DEFAULT_MAX_QUOTES, DEFAULT_QUOTE_RULES, type QuoteRules, quoteProblem } from "./quote-rules.js";

/**
 * The publish-subscribe channel of quote requests, declared like every channel from its message type:
 * every courier subscribes to it (no queue group), every one answers.
 */
export const COURIER_QUOTE_REQUEST_SUBJECT = requestSubject(CourierQuoteRequestSchema);

export interface QuoteGatherer {
  /** The subject replies come back on (this instance's reply inbox). */
  readonly replySubject: string;
  /**
   * Publishes `request` to every courier and resolves, after `windowMs` (or when `signal` aborts, or as soon
   * as `maxQuotes` valid quotes arrived), with the quotes that answered it, at most one per courier, in the
   * order they arrived.
   */
  gather(request: QuoteRequest, windowMs: number, signal?: AbortSignal): Promise<CourierQuote[]>;
  /** Stops listening for replies. */
  close(): void;
}

/** What to ask the couriers; the order id is the correlation id. */
export interface QuoteRequest {
  readonly orderId: string;
  readonly restaurantId: string;
  /** When the food is ready, milliseconds since the epoch. */
  readonly readyBy: number;
}

export interface QuoteGathererOptions {
  readonly nc: NatsConnection;
  readonly log: Logger;
  /** At most this many quotes per request (COURIER_MAX_QUOTES); default DEFAULT_MAX_QUOTES. */
  readonly maxQuotes?: number;
  /** What a quote must satisfy; default DEFAULT_QUOTE_RULES. */
  readonly rules?: QuoteRules;
}

interface Gathering {
  readonly request: QuoteRequest;
  /** The request's message id: a reply's causation id must name it. */
  readonly requestId: string;
  readonly quotes: Map<string, CourierQuote>;
  /** Dropped replies by reason, for the one log line at the end. */
  readonly dropped: Map<string, number>;
  /** Ends the window early: the cap is reached. */
  readonly full: () => void;
}

/**
 * The connection's own inbox prefix: in the secure mode connectNats sets `_INBOX_<identity>`, and the broker lets
 * Delivery subscribe to those inboxes only (broker-access.ts), so no other identity reads the quotes. nats.js
 * keeps it on the connection's options, which its NatsConnection interface does not declare.
 */
function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as { options?: ConnectionOptions }).options?.inboxPrefix;
}

/**
 * Subscribes to a reply inbox of this instance's own and returns the gatherer that publishes quote
 * requests with it. Replies that match no request being gathered (late, or beyond the cap) are logged at
 * debug and dropped.
 */
export function createQuoteGatherer(options: QuoteGathererOptions): QuoteGatherer {
  const { nc, log, maxQuotes = DEFAULT_MAX_QUOTES, rules = DEFAULT_QUOTE_RULES } = options;
  const replySubject = createInbox(inboxPrefixOf(nc));
  /** Requests being gathered, by correlation id (the order id). */
  const gatherings = new Map<string, Gathering>();

  const subscription = nc.subscribe(replySubject, {
    callback: (err, msg) => {
      if (err) log.warn({ err }, "courier quote replies: subscription error");
      else receive(msg);
    },
  });

  /** Matches a reply to its request by correlation id, and keeps it if it is a valid quote for that order. */
  function receive(msg: Msg): void {
    // Only the two ids matter here: a courier's reply need carry no more of the ftgo header than that.
    const correlationId = msg.headers?.get(MessageHeader.CorrelationId) ?? "";
    const causationId = msg.headers?.get(MessageHeader.CausationId) ?? "";
    const gathering = gatherings.get(correlationId);
    if (!gathering || causationId !== gathering.requestId || gathering.quotes.size >= maxQuotes) {
      log.debug({ orderId: correlationId, causationId }, "courier quote matches no open request; dropped");
      return;
    }
    const problem = take(gathering, msg.data);
    if (problem) gathering.dropped.set(problem, (gathering.dropped.get(problem) ?? 0) + 1);
    else if (gathering.quotes.size >= maxQuotes) gathering.full();
  }

  /** Adds the quote in `data` to `gathering`; why not, if it does not. */
  function take(gathering: Gathering, data: Uint8Array): string | undefined {
    let quote: CourierQuote;
    try {
      quote = decodeBody(CourierQuoteSchema, data);
    } catch {
      return "not a valid CourierQuote";
    }
    const { orderId, readyBy } = gathering.request;
    const problem = quoteProblem(quote, { orderId, readyBy, now: Date.now() }, rules);
    if (problem) return problem;
    if (gathering.quotes.has(quote.courierId)) return "a second quote from the same courier";
    gathering.quotes.set(quote.courierId, quote);
    return undefined;
  }

  return {
    replySubject,
    async gather(request, windowMs, signal) {
      const correlationId = request.orderId;
      if (gatherings.has(correlationId)) throw new Error(`already gathering quotes for order ${correlationId}`);
      const window = createPause();
      const gathering: Gathering = {
        request,
        requestId: randomUUID(),
        quotes: new Map(),
        dropped: new Map(),
        full: () => window.wake(),
      };
      gatherings.set(correlationId, gathering);
      const abort = () => window.wake();
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const envelope = { messageId: gathering.requestId, type: CourierQuoteRequestSchema.typeName, correlationId };
        const message = { ...request, readyBy: timestampFromMs(request.readyBy) };
        nc.publish(COURIER_QUOTE_REQUEST_SUBJECT, encodeBody(CourierQuoteRequestSchema, message), {
          reply: replySubject,
          headers: messageHeaders(envelope),
        });
        // The window: `windowMs`, or less when `signal` aborts or the cap is reached.
        if (!signal?.aborted) await window.sleep(windowMs);
        return [...gathering.quotes.values()];
      } finally {
        signal?.removeEventListener("abort", abort);
        gatherings.delete(correlationId);
        logDropped(gathering);
      }
    },
    close: () => subscription.unsubscribe(),
  };

  function logDropped({ request, dropped, quotes }: Gathering): void {
    if (dropped.size === 0) return;
    const count = [...dropped.values()].reduce((sum, n) => sum + n, 0);
    log.warn(
      { orderId: request.orderId, dropped: Object.fromEntries(dropped), kept: quotes.size },
      `${count} courier quote(s) dropped`,
    );
  }
}
