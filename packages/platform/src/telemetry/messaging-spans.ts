// Messaging spans after the OpenTelemetry messaging conventions (messaging.system = nats). The outbox
// row keeps the trace context of the transaction that wrote it (its `traceparent` header), so a message
// continues its order's trace however long it waits in the outbox and whichever relay publishes it:
//
//   transaction that wrote the row ─▶ PRODUCER "publish <channel>" (relay) ─▶ CONSUMER "process <channel>"
//
// The relay's publish span is a child of the writer's context and becomes the message's `traceparent`.
// The consumer's process span is a child of that, unless the message is consumed much later (after
// LATE_AFTER_MS in the stream, e.g. a service that was down): then it starts a trace of its own with a
// link to the publish, so one order's trace does not stretch over hours of someone's outage.
import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, trace } from "@opentelemetry/api";
import { channelName } from "./channel-name.js";
import { contextFromTraceparent, endSpan, traceparentOf, tracer, withSpan } from "./trace-context.js";

/** A message older than this when consumed is linked to its publish rather than a child of it. */
export const LATE_AFTER_MS = 60_000;

/** What identifies a message in its spans: where it goes, its id and its order. */
export interface TracedMessage {
  readonly subject: string;
  readonly messageId: string;
  readonly correlationId: string;
}

function attributesOf(message: TracedMessage, operation: "send" | "process") {
  return {
    "messaging.system": "nats",
    "messaging.operation.type": operation,
    "messaging.operation.name": operation === "send" ? "publish" : "process",
    "messaging.destination.name": message.subject,
    "messaging.message.id": message.messageId,
    "messaging.message.conversation_id": message.correlationId,
  };
}

/** A started messaging span and the context its work runs in. */
export interface MessageSpan {
  readonly span: Span;
  readonly context: Context;
  /** The `traceparent` the message carries on from here; undefined when this span is not recorded. */
  readonly traceparent: string | undefined;
  end(error?: unknown): void;
}

function messageSpan(span: Span, parent: Context): MessageSpan {
  const ctx = withSpan(parent, span);
  return {
    span,
    context: ctx,
    traceparent: span.isRecording() ? traceparentOf(ctx) : undefined,
    end: (error) => endSpan(span, error),
  };
}

/** The relay's PRODUCER span of one outbox row, continuing the context of the transaction that wrote it. */
export function startPublishSpan(message: TracedMessage, writtenIn: string | undefined): MessageSpan {
  const parent = contextFromTraceparent(writtenIn);
  const span = tracer.startSpan(`publish ${channelName(message.subject)}`, { kind: SpanKind.PRODUCER }, parent);
  // Set once it is known to be recorded: with tracing off, a message costs no attribute object.
  if (span.isRecording()) span.setAttributes(attributesOf(message, "send"));
  return messageSpan(span, parent);
}

/**
 * A consumer's CONSUMER span for handling one delivery: a child of the message's publish, or, when the
 * message is `ageMs()` old beyond LATE_AFTER_MS, the root of a new trace linked to it. (A function: a
 * message that carries no trace context needs no age.)
 */
export function startProcessSpan(
  message: TracedMessage & { readonly consumerGroup: string; readonly deliveryCount: number },
  publishedIn: string | undefined,
  ageMs: () => number,
): MessageSpan {
  const sent = contextFromTraceparent(publishedIn);
  const sentSpan = trace.getSpanContext(sent);
  const age = sentSpan ? ageMs() : 0;
  const late = age > LATE_AFTER_MS;
  const links: Link[] = late && sentSpan ? [{ context: sentSpan, attributes: { "ftgo.age_ms": age } }] : [];
  const parent = late ? ROOT_CONTEXT : sent;
  const span = tracer.startSpan(
    `process ${channelName(message.subject)}`,
    { kind: SpanKind.CONSUMER, links, root: late },
    parent,
  );
  if (span.isRecording()) {
    span.setAttributes({
      ...attributesOf(message, "process"),
      "messaging.consumer.group.name": message.consumerGroup,
      "messaging.nats.delivery_count": message.deliveryCount,
    });
  }
  return messageSpan(span, parent);
}
