import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, beforeEach } from "vitest";

/**
 * Records every span the platform starts in this test file, in memory: the SDK's own tracer provider,
 * context manager and W3C propagator, registered globally as the Node SDK would register them, and
 * unregistered after the file so that no other test file traces.
 */
export function useRecordedSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return {
    /** The spans ended so far in this test. */
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
  };
}

/** The id of the span `span` is a child of, if any. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
