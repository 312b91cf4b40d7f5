// A courier: a live responder in Delivery's publish/async responses. It subscribes to the quote request
// channel with a plain subscription — no queue group — so that every courier receives every request (the
// one-to-many half), and answers each on the request's reply subject with its quote, carrying the request's
// correlation id (the order id) and naming the request as its causation id (the async-response half). It
// keeps no state and serves no port: when it is down, it simply does not answer.
import { randomUUID } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type CourierQuoteRequest,
  CourierQuoteRequestSchema,
  CourierQuoteSchema,
} from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import {
  type BaseConfig,
  connectNats,
  DEFAULT_CURRENCY,
  decodeBody,
  type Env,
  type Envelope,
  encodeBody,
  type Logger,
  loadConfig,
  messageHeaders,
  readEnvelope,
  requestSubject,
} from "@ftgo/platform";
import type { Msg } from "@nats-io/transport-node";
import { type CourierTerms, quoteFor } from "./quote.js";

/** Where Delivery asks for quotes: the request channel of CourierQuoteRequest, the same in every process. */
const QUOTE_REQUESTS = requestSubject(CourierQuoteRequestSchema);

export interface CourierConfig extends BaseConfig {
  readonly terms: CourierTerms;
}

/** A courier's configuration: COURIER_ID (default courier-1), COURIER_MINUTES (default 20), COURIER_PRICE (minor units, default 500). */
export function loadCourierConfig(env: Env): CourierConfig {
  return loadConfig(env, { service: "courier", port: 0 }, (read) => ({
    terms: {
      courierId: read.string("COURIER_ID", "courier-1"),
      minutes: read.int("COURIER_MINUTES", 20, 1),
      priceMinor: read.int("COURIER_PRICE", 500, 1), // Delivery drops a quote of 0: refuse it at start instead
      currency: read.string("COURIER_CURRENCY", DEFAULT_CURRENCY),
    },
  }));
}

export interface RunningCourier {
  readonly courierId: string;
  /** Stops answering: drains the connection (requests already received are answered first) and closes it. */
  stop(): Promise<void>;
}

/** Connects to NATS and answers quote requests until stopped. Resolves once the server has the subscription. */
export async function startCourier(config: CourierConfig, rootLog: Logger): Promise<RunningCourier> {
  const { terms } = config;
  const log = rootLog.child({ courierId: terms.courierId });
  const nc = await connectNats({ url: config.natsUrl, name: terms.courierId, log, tls: config.tls });

  /** Answers one request on its reply subject, correlated to it. */
  function answer(msg: Msg): void {
    let envelope: Envelope;
    let request: CourierQuoteRequest;
    try {
      envelope = readEnvelope(msg.headers);
      request = decodeBody(CourierQuoteRequestSchema, msg.data);
    } catch (err) {
      log.warn({ err }, "quote request is not a well-formed CourierQuoteRequest message; ignored");
      return;
    }
    const { correlationId, messageId: requestId } = envelope;
    if (!msg.reply || correlationId !== request.orderId) {
      log.warn(
        { orderId: request.orderId, correlationId },
        "quote request without reply subject, or for another order than its correlation id; ignored",
      );
      return;
    }
    const quote = quoteFor(terms, request, Date.now());
    const reply = { messageId: randomUUID(), type: CourierQuoteSchema.typeName, correlationId, causationId: requestId };
    msg.respond(encodeBody(CourierQuoteSchema, quote), { headers: messageHeaders(reply) });
    log.info(
      {
        orderId: request.orderId,
        eta: quote.estimatedDeliveryTime && timestampDate(quote.estimatedDeliveryTime).toISOString(),
        price: `${terms.priceMinor} ${terms.currency}`,
      },
      "quote sent",
    );
  }

  // No queue group: every courier gets every request. That is what makes this publish-subscribe.
  nc.subscribe(QUOTE_REQUESTS, {
    callback: (err, msg) => {
      if (err) log.warn({ err }, "quote request subscription error");
      else answer(msg);
    },
  });
  await nc.flush(); // the server has the subscription: from now on this courier answers
  log.info(
    { subject: QUOTE_REQUESTS, minutes: terms.minutes, price: `${terms.priceMinor} ${terms.currency}` },
    "answering quote requests",
  );
  return {
    courierId: terms.courierId,
    async stop() {
      await nc.drain();
    },
  };
}
