export { channelName } from "./channel-name.js";
export { type HttpSpan, startHttpServerSpan } from "./http-spans.js";
export { LATE_AFTER_MS, type MessageSpan, startProcessSpan, startPublishSpan } from "./messaging-spans.js";
export * from "./metrics.js";
export { type MetricsServer, serveMetrics } from "./metrics-server.js";
export { OK, type RpcSpan, startClientSpan, startServerSpan } from "./rpc-spans.js";
export { inSagaSpan, noteStepOutcome, type SagaStepOptions, sagaStep } from "./saga-spans.js";
export { contextFromTraceparent, endSpan, traceHeadersOf, traceparentOf, tracer } from "./trace-context.js";
export { startTracing, type Tracing, tracingRequested } from "./tracing.js";
