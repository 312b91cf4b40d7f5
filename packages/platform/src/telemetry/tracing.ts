// Traces: OpenTelemetry with W3C Trace Context. Every process calls startTracing once, from its main.ts.
// With an OTLP endpoint in the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) it starts the Node SDK, which reads the other standard variables
// itself (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_PROPAGATORS, …) and
// exports every span the platform starts. With none, the SDK is not even loaded: @opentelemetry/api's
// no-op tracer answers, and a span costs a function call that returns a shared non-recording span.
import type { Env } from "../env.js";

export interface Tracing {
  /** Whether spans leave this process (an OTLP endpoint is set). */
  readonly exporting: boolean;
  /** Exports the spans still buffered, then stops; the shutdown sequence calls it last. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { exporting: false, shutdown: async () => {} };

/** Whether `env` asks for traces to be exported: an OTLP endpoint is set and nothing turns the SDK off. */
export function tracingRequested(env: Env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.trim() !== "true" && env.OTEL_TRACES_EXPORTER?.trim() !== "none";
}

/**
 * Starts exporting traces when `env` asks for it (see above), as `service` unless OTEL_SERVICE_NAME names
 * the process otherwise. The SDK instruments nothing by itself here: the platform's gRPC adapters, outbox,
 * relay and consumers start the spans (trace-context.ts), so that each says what it is in our terms.
 */
export async function startTracing(service: string, env: Env): Promise<Tracing> {
  if (!tracingRequested(env)) return OFF;
  // A CommonJS package: its exports object is the namespace's default, under Node and in a service's bundle
  // alike (esbuild gives a lazily loaded CommonJS chunk no named exports).
  const { NodeSDK } = (await import("@opentelemetry/sdk-node")).default;
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || service,
    instrumentations: [],
    // Traces only: metrics are Prometheus's, pulled from /metrics, and logs stay pino's on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { exporting: true, shutdown: () => sdk.shutdown() };
}
