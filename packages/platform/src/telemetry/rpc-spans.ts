// gRPC spans after the OpenTelemetry semantic conventions for RPC: one SERVER span per incoming call and
// one CLIENT span per outgoing call (per attempt, so a retry shows as a second client span), named
// `<package.Service>/<Method>`, with rpc.system, rpc.service, rpc.method and rpc.grpc.status_code. The
// caller's trace context travels in the `traceparent`/`tracestate` metadata. Ending a span also records the
// call's duration in the rpc_server/client_duration_seconds histograms (metrics.ts), by the same names and code.
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Metadata } from "@grpc/grpc-js";
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { rpcClientDuration, rpcServerDuration } from "./metrics.js";
import { endSpan, tracer } from "./trace-context.js";

/**
 * The codes with which a server reports its own failure, per the conventions; every other code is the
 * caller's business (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION…) and leaves the server span unset.
 * On the client side every code but OK is an error.
 */
const SERVER_FAULTS: ReadonlySet<Code> = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

const METADATA_GETTER: TextMapGetter<Metadata> = {
  get(metadata, key) {
    const [first] = metadata.get(key);
    return typeof first === "string" ? first : undefined;
  },
  keys: (metadata) => Object.keys(metadata.getMap()),
};

const METADATA_SETTER: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

/** The status code of a call that succeeded: gRPC's OK, which Connect's Code leaves out. */
export const OK = 0;

/** A started RPC span and the context in which the call's own work runs (its child spans' parent). */
export interface RpcSpan {
  readonly span: Span;
  readonly context: Context;
  /** Ends the span with the call's status code, and with `error` when the code counts as a failure; once. */
  end(code: Code | typeof OK, error?: unknown): void;
}

function attributesOf(method: DescMethod) {
  return { "rpc.system": "grpc", "rpc.service": method.parent.typeName, "rpc.method": method.name };
}

/** The SERVER span of an incoming call, continuing the trace its metadata carries (a new one without). */
export function startServerSpan(method: DescMethod, metadata: Metadata): RpcSpan {
  const parent = propagation.extract(ROOT_CONTEXT, metadata, METADATA_GETTER);
  const span = tracer.startSpan(
    `${method.parent.typeName}/${method.name}`,
    { kind: SpanKind.SERVER, attributes: attributesOf(method) },
    parent,
  );
  return rpcSpan(
    span,
    trace.setSpan(parent, span),
    method,
    rpcServerDuration,
    (code) => code !== OK && SERVER_FAULTS.has(code),
  );
}

/**
 * The CLIENT span of an outgoing call to `address`, a child of the active span, and the call's trace
 * context written into `metadata` for the server to continue.
 */
export function startClientSpan(method: DescMethod, address: string, metadata: Metadata): RpcSpan {
  const parent = context.active();
  const [host = address, port] = address.split(/:(?=\d+$)/);
  const span = tracer.startSpan(
    `${method.parent.typeName}/${method.name}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { ...attributesOf(method), "server.address": host, ...(port ? { "server.port": Number(port) } : {}) },
    },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  propagation.inject(ctx, metadata, METADATA_SETTER);
  return rpcSpan(span, ctx, method, rpcClientDuration, (code) => code !== OK);
}

function rpcSpan(
  span: Span,
  ctx: Context,
  method: DescMethod,
  duration: typeof rpcServerDuration,
  isError: (code: Code | typeof OK) => boolean,
): RpcSpan {
  const started = performance.now();
  let ended = false;
  return {
    span,
    context: ctx,
    end(code, error) {
      if (ended) return;
      ended = true;
      span.setAttribute("rpc.grpc.status_code", code);
      const labels = { service: method.parent.typeName, method: method.name, code: codeName(code) };
      duration.observe(labels, (performance.now() - started) / 1000);
      endSpan(span, code === OK ? undefined : (error ?? Code[code]), isError(code));
    },
  };
}

/** A status code as gRPC names it: OK, NOT_FOUND, DEADLINE_EXCEEDED… (Connect's Code says NotFound). */
function codeName(code: Code | typeof OK): string {
  if (code === OK) return "OK";
  if (code === Code.Canceled) return "CANCELLED"; // gRPC spells it the British way
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
