// gRPC spans after the OpenTelemetry semantic conventions for RPC: one SERVER span per incoming call and
// one CLIENT span per outgoing call (per attempt, so a retry shows as a second client span), named
// `<package.Service>/<Method>`, with rpc.system, rpc.service, rpc.method and rpc.grpc.status_code. The
// caller's trace context travels in the `traceparent`/`tracestate` metadata. Ending a span also records the
// call's duration in the rpc_server/client_duration_seconds histograms (metrics.ts), by the same names and code.
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Metadata } from "@grpc/grpc-js";
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import { rpcClientDuration, rpcServerDuration } from "./metrics.js";
import { endSpan, tracer, withSpan } from "./trace-context.js";

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

/**
 * What every call of one method shares, worked out on its first call: its span name and attributes, and its
 * histograms' children per status code (prom-client hashes a label set on every observe; a child does not).
 * With tracing off a call then costs a no-op span and one observe.
 */
interface MethodTelemetry {
  readonly name: string;
  readonly attributes: Attributes;
  observer(histogram: typeof rpcServerDuration, code: Code | typeof OK): { observe(seconds: number): void };
}

const methods = new WeakMap<DescMethod, MethodTelemetry>();

function telemetryOf(method: DescMethod): MethodTelemetry {
  let known = methods.get(method);
  if (!known) {
    const service = method.parent.typeName;
    const observers = new Map<string, { observe(seconds: number): void }>();
    known = {
      name: `${service}/${method.name}`,
      attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method.name },
      observer(histogram, code) {
        const key = `${histogram === rpcServerDuration ? "s" : "c"}${code}`;
        let observer = observers.get(key);
        if (!observer) {
          observer = histogram.labels(service, method.name, codeName(code));
          observers.set(key, observer);
        }
        return observer;
      },
    };
    methods.set(method, known);
  }
  return known;
}

/** `host:port` → the client span's server.address and server.port attributes, worked out once per address. */
const servers = new Map<string, Attributes>();

function serverAttributes(address: string): Attributes {
  let attributes = servers.get(address);
  if (!attributes) {
    const [host = address, port] = address.split(/:(?=\d+$)/);
    attributes = { "server.address": host, ...(port ? { "server.port": Number(port) } : {}) };
    servers.set(address, attributes);
  }
  return attributes;
}

/** The SERVER span of an incoming call, continuing the trace its metadata carries (a new one without). */
export function startServerSpan(method: DescMethod, metadata: Metadata): RpcSpan {
  const known = telemetryOf(method);
  const parent = propagation.extract(ROOT_CONTEXT, metadata, METADATA_GETTER);
  const span = tracer.startSpan(known.name, { kind: SpanKind.SERVER, attributes: known.attributes }, parent);
  return rpcSpan(
    span,
    withSpan(parent, span),
    known,
    rpcServerDuration,
    (code) => code !== OK && SERVER_FAULTS.has(code),
  );
}

/**
 * The CLIENT span of an outgoing call to `address`, a child of the active span, and the call's trace
 * context written into `metadata` for the server to continue.
 */
export function startClientSpan(method: DescMethod, address: string, metadata: Metadata): RpcSpan {
  const known = telemetryOf(method);
  const parent = context.active();
  const span = tracer.startSpan(known.name, { kind: SpanKind.CLIENT, attributes: known.attributes }, parent);
  if (span.isRecording()) span.setAttributes(serverAttributes(address));
  const ctx = withSpan(parent, span);
  propagation.inject(ctx, metadata, METADATA_SETTER);
  return rpcSpan(span, ctx, known, rpcClientDuration, (code) => code !== OK);
}

function rpcSpan(
  span: Span,
  ctx: Context,
  known: MethodTelemetry,
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
      known.observer(duration, code).observe((performance.now() - started) / 1000);
      if (!span.isRecording()) return;
      span.setAttribute("rpc.grpc.status_code", code);
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
