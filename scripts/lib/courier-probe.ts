// Readiness of the couriers, which serve no port: a courier is ready when it answers a quote request. The
// probe asks the way Delivery does — a CourierQuoteRequest on the request channel, with a reply inbox and a
// correlation id — and waits until every courier named has answered. Each answer shows up in that courier's
// log as a "quote sent" for the order "readiness-probe". It speaks only the contract (gen/) and the
// platform's channel, never Delivery's code: a script is one more client of the mesh, like a service.
import { randomUUID } from "node:crypto";
import { CourierQuoteRequestSchema, CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { decodeBody, encodeBody, MessageHeader, messageHeaders, natsServers, requestSubject } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { connect, createInbox } from "@nats-io/transport-node";

/** The order id of the probe's requests: not a real order, and said so in every courier's log line. */
export const PROBE_ORDER_ID = "readiness-probe";
/** How long each probe request waits for answers before the next one is sent. */
const WINDOW_MS = 500;

export interface CourierProbeOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** The secure mode: the probe's certificate files (it asks as the admin identity, which may ask anything). */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
}

/**
 * Resolves once every courier in `courierIds` has answered a quote request on the NATS server at
 * `natsUrl`, asking again every half second until then (a courier that starts later hears the next one).
 * Rejects, naming the couriers still silent, when that does not happen within the timeout.
 */
export async function waitUntilCouriersAnswer(
  natsUrl: string,
  courierIds: readonly string[],
  { timeoutMs = 30_000, signal, tls }: CourierProbeOptions = {},
): Promise<void> {
  const nc = await connect({
    servers: natsServers(natsUrl),
    name: "up-courier-probe",
    ...(tls ? { tls: { caFile: tls.ca, certFile: tls.cert, keyFile: tls.key } } : {}),
  });
  const replySubject = createInbox();
  const answered = new Set<string>();
  const silent = () => courierIds.filter((id) => !answered.has(id));
  // Any quote for the probe's order, to any of its requests, proves its courier is up: a late one too.
  const replies = nc.subscribe(replySubject, {
    callback: (err, msg) => {
      if (err || msg.headers?.get(MessageHeader.CorrelationId) !== PROBE_ORDER_ID) return;
      try {
        answered.add(decodeBody(CourierQuoteSchema, msg.data).courierId);
      } catch {
        // not a CourierQuote: not an answer
      }
    },
  });
  const ask = () => {
    const envelope = {
      messageId: randomUUID(),
      type: CourierQuoteRequestSchema.typeName,
      correlationId: PROBE_ORDER_ID,
    };
    const request = encodeBody(CourierQuoteRequestSchema, { orderId: PROBE_ORDER_ID, restaurantId: "none" });
    nc.publish(requestSubject(CourierQuoteRequestSchema), request, {
      reply: replySubject,
      headers: messageHeaders(envelope),
    });
  };
  try {
    await nc.flush(); // the server has the reply subscription before the first request goes out
    await waitFor(
      () => {
        if (silent().length === 0) return true;
        ask();
        return false;
      },
      {
        timeoutMs,
        intervalMs: WINDOW_MS,
        signal,
        message: () => `couriers answering a quote request (still silent: ${silent().join(", ")})`,
      },
    );
  } finally {
    replies.unsubscribe();
    await nc.close();
  }
}
