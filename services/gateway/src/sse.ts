// Protocol translation for a stream: OrderService.WatchOrder (gRPC server streaming, of the version the
// client called) relayed to the browser as Server-Sent Events. The gRPC stream lives exactly as long as
// the HTTP response: it ends when the order settles (the server ends it), when the client goes away, or at
// SSE_MAX_MS. A caller holds at most SSE_MAX_PER_CALLER streams open at once (stream-slots.ts).
import { Readable } from "node:stream";
import { requireOwnOrder } from "./auth.js";
import type { RouteContext } from "./context.js";
import type { OrderApi } from "./order-api.js";
import { rateLimitKey } from "./rate-limit.js";

/**
 * What the stream carries, for the OpenAPI document: text, as Server-Sent Events are, and each event's
 * `data` (JSON) under `x-ftgo-events`, by event name, so that a client knows what it parses.
 */
export function orderEventsSchema({ orderSchema }: OrderApi): Readonly<Record<string, unknown>> {
  return {
    type: "string",
    contentMediaType: "text/event-stream",
    description:
      "Server-Sent Events (UTF-8): a comment line at once (`: watching the order`), then `event: order` whose " +
      "`data` is the order as JSON, now and after each change; `event: end` (data `{}`) once it settles, or " +
      '`event: error` (data `{"message"}`) when the stream is interrupted. The stream then ends.',
    "x-ftgo-events": {
      order: { $ref: `#/components/schemas/${orderSchema.typeName}` },
      end: { type: "object", maxProperties: 0 },
      error: { type: "object", required: ["message"], properties: { message: { type: "string" } } },
    },
    examples: [
      ': watching the order\n\nevent: order\ndata: {"orderId":"…","state":"APPROVED"}\n\nevent: end\ndata: {}\n\n',
    ],
  };
}

/** GET /api/{version}/orders/{orderId}/events: `event: order` with the order's JSON, at once and on every change. */
export function orderEventsOf(orders: OrderApi): (ctx: RouteContext) => Promise<unknown> {
  return (ctx) => streamOrderEvents(ctx, orders);
}

async function streamOrderEvents(ctx: RouteContext, orders: OrderApi): Promise<unknown> {
  const { deps, params, reply, request, callOptions } = ctx;
  const orderId = params.orderId ?? "";
  await requireOwnOrder(ctx, orders, orderId);

  const release = deps.streams.take(rateLimitKey(ctx.caller, request.ip));
  const gone = new AbortController();
  gone.signal.addEventListener("abort", release, { once: true });
  request.raw.once("close", () => gone.abort());
  reply.raw.once("close", () => gone.abort()); // the response is over, however it ended: the slot is free
  const updates = orders.watchOrder(deps.backends, orderId, {
    ...callOptions,
    signal: gone.signal,
    timeoutMs: deps.config.sseMaxMs,
  });
  const log = deps.log.child({ requestId: request.id, orderId });

  async function* events() {
    yield ": watching the order\n\n"; // sent at once, so proxies and clients see the stream open
    try {
      for await (const order of updates) yield `event: order\ndata: ${JSON.stringify(order)}\n\n`;
      yield "event: end\ndata: {}\n\n";
    } catch (error) {
      if (!gone.signal.aborted) {
        log.warn({ err: error }, "order stream failed");
        yield `event: error\ndata: ${JSON.stringify({ message: "the order stream was interrupted" })}\n\n`;
      }
    } finally {
      gone.abort(); // the generator is closed early when the client disconnects: end the gRPC stream with it
    }
  }

  reply.headers({ "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  return reply.send(Readable.from(events()));
}
