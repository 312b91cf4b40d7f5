// HTTP server spans after the OpenTelemetry semantic conventions for HTTP, for the gateway: one SERVER span
// per request, named `<METHOD> <route>`, continuing the trace of a caller that sent a `traceparent`. A
// 5xx answer is the server's failure (ERROR); a 4xx is the caller's, and keeps the span's status unset, but
// the span says why it was refused (`ftgo.rejection`: the token has expired, the rate limit, …), so a
// rejected request is as visible in a trace as one that went through.
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { tracer } from "./trace-context.js";

export interface HttpSpan {
  readonly span: Span;
  /** The context the request's handler runs in: the parent of its gRPC calls' client spans. */
  readonly context: Context;
  /** Runs `fn` (the request's handler) in this span's context. */
  run<T>(fn: () => T): T;
  /** Records why the request is refused or failed, before its answer goes out. */
  reject(reason: string): void;
  /** Ends the span with the answer's status code; once. */
  end(status: number): void;
}

/** The SERVER span of one HTTP request to `route` (the route's template, `/api/v1/orders/:orderId`). */
export function startHttpServerSpan(
  method: string,
  route: string,
  path: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): HttpSpan {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer.startSpan(
    `${method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": method, "http.route": route, "url.path": path },
    },
    parent,
  );
  let ended = false;
  let rejection: string | undefined;
  const ctx = trace.setSpan(parent, span);
  return {
    span,
    context: ctx,
    run: (fn) => context.with(ctx, fn),
    reject(reason) {
      rejection = reason;
      span.setAttribute("ftgo.rejection", reason);
    },
    end(status) {
      if (ended) return;
      ended = true;
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: rejection ?? `HTTP ${status}` });
      span.end();
    },
  };
}
