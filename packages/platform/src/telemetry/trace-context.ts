// Where a trace goes next: the W3C `traceparent` (and `tracestate`) that travels in gRPC metadata and in
// message headers, and the one tracer the platform starts its spans with. Propagation goes through
// @opentelemetry/api's global propagator, which the Node SDK sets from OTEL_PROPAGATORS (W3C Trace
// Context by default); with tracing off it is a no-op, and so is every function here.
import {
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";

/** The tracer of every span the platform starts (gRPC calls, outbox, relay, consumers, saga steps). */
export const tracer = trace.getTracer("@ftgo/platform");

/** The W3C trace context of `ctx` (the active context by default), as the headers that carry it. */
export function traceHeadersOf(ctx: Context = context.active()): { traceparent?: string; tracestate?: string } {
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The `traceparent` of `ctx` (the active context by default); undefined when no span is recording there. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  return traceHeadersOf(ctx).traceparent;
}

const RECORD_GETTER: TextMapGetter<Readonly<Record<string, string | undefined>>> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};

/** The context a received `traceparent` (and `tracestate`) continue; the empty root context without one. */
export function contextFromTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent, tracestate }, RECORD_GETTER);
}

/**
 * The context the work of `span` runs in: `parent` with `span`, unless the span is nothing to carry on (the
 * API's no-op span with tracing off), which spares a context per call.
 */
export function withSpan(parent: Context, span: Span): Context {
  return isSpanContextValid(span.spanContext()) ? trace.setSpan(parent, span) : parent;
}

/**
 * Ends `span` with the outcome of what it measured: OK, or ERROR with `error`'s message (recorded as an
 * exception event, so a trace view shows why). `isError` says whether a failure counts as an error for
 * this kind of span (a server answering NOT_FOUND has not failed; see rpc-spans.ts).
 */
export function endSpan(span: Span, error?: unknown, isError = true): void {
  if (error !== undefined && isError) {
    const message = error instanceof Error ? error.message : String(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    if (error instanceof Error) span.recordException(error);
  }
  span.end();
}
