// Readiness of the couriers, which serve no port: a courier is ready when it answers a quote request. The
// probe asks the way Delivery does — a CourierQuoteRequest on the publish-subscribe subject, with a reply
// inbox and a correlation id — and waits until every courier named has answered. Each answer shows up in
// that courier's log as a "quote sent" for the order "readiness-probe".
import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CourierQuoteRequestSchema, CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { MessageHeader, PROTOBUF_CONTENT_TYPE } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { connect, createInbox, headers as natsHeaders } from "@nats-io/transport-node";

/** Where couriers listen (proto/ftgo/delivery/v1/couriers.proto). */
const QUOTE_REQUEST_SUBJECT = "ftgo.delivery.courier.quote_request";
/** The order id of the probe's requests: not a real order, and said so in every courier's log line. */
export const PROBE_ORDER_ID = "readiness-probe";

export interface CourierProbeOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Resolves once every courier in `courierIds` has answered a quote request on the NATS server at
 * `natsUrl`; asks again every half second until then. Rejects, naming the couriers still silent, when
 * that does not happen within the timeout.
 */
export async function waitUntilCouriersAnswer(
  natsUrl: string,
  courierIds: readonly string[],
  { timeoutMs = 30_000, signal }: CourierProbeOptions = {},
): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: "up-courier-probe" });
  const inbox = createInbox();
  const answered = new Set<string>();
  nc.subscribe(inbox, {
    callback: (err, msg) => {
      if (err) return;
      try {
        answered.add(fromBinary(CourierQuoteSchema, msg.data).courierId);
      } catch {
        // not a quote: not an answer
      }
    },
  });
  const silent = () => courierIds.filter((id) => !answered.has(id));
  const ask = () => {
    const headers = natsHeaders();
    headers.set(MessageHeader.MessageId, randomUUID());
    headers.set(MessageHeader.Type, CourierQuoteRequestSchema.typeName);
    headers.set(MessageHeader.CorrelationId, PROBE_ORDER_ID);
    headers.set(MessageHeader.ContentType, PROTOBUF_CONTENT_TYPE);
    const request = create(CourierQuoteRequestSchema, { orderId: PROBE_ORDER_ID, restaurantId: "none" });
    nc.publish(QUOTE_REQUEST_SUBJECT, toBinary(CourierQuoteRequestSchema, request), { reply: inbox, headers });
  };
  try {
    await waitFor(
      () => {
        if (silent().length === 0) return true;
        ask();
        return false;
      },
      {
        timeoutMs,
        intervalMs: 500,
        signal,
        message: () => `couriers answering a quote request (still silent: ${silent().join(", ")})`,
      },
    );
  } finally {
    await nc.close();
  }
}
