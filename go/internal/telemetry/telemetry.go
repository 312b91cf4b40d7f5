// Package telemetry traces the Loyalty service with OpenTelemetry, as the platform's telemetry/ traces the
// TypeScript ones: W3C Trace Context, OTLP/HTTP to the endpoint the standard variables name
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, …), nothing at all without one. gRPC calls are traced by
// otelgrpc's server handler; messages by ProcessSpan and PublishSpan, named and attributed like consumer.ts's
// and relay-batch.ts's spans, so that one order's trace reads the same across the two languages.
package telemetry

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// LateAfter is how old a message may be when consumed and still be a child of its publish; an older one starts
// a trace of its own, linked to it (messaging-spans.ts's LATE_AFTER_MS).
const LateAfter = time.Minute

// tracer is asked of the global provider each time, so that it is whichever Start (or a test) set.
func tracer() trace.Tracer { return otel.Tracer("github.com/ftgo-mesh/ftgo-mesh/go") }

// Requested says whether the environment asks for traces to be exported.
func Requested(lookup func(string) (string, bool)) bool {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	endpoint := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	return endpoint != "" && get("OTEL_SDK_DISABLED") != "true" && get("OTEL_TRACES_EXPORTER") != "none"
}

// Start exports traces as `service` (unless OTEL_SERVICE_NAME says otherwise) when the environment asks for it,
// and returns the function that flushes and stops the exporter. Without an endpoint it changes nothing: the
// global tracer stays the no-op one.
func Start(ctx context.Context, service string, lookup func(string) (string, bool)) (func(context.Context) error, error) {
	if !Requested(lookup) {
		return func(context.Context) error { return nil }, nil
	}
	exporter, err := otlptracehttp.New(ctx) // reads OTEL_EXPORTER_OTLP_* itself
	if err != nil {
		return nil, err
	}
	name := service
	if v, ok := lookup("OTEL_SERVICE_NAME"); ok && strings.TrimSpace(v) != "" {
		name = strings.TrimSpace(v)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
	)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return provider.Shutdown, nil
}

// headerCarrier reads and writes a message's headers as they are sent: `traceparent` in lower case, as the
// TypeScript services write it (http.Header would look for `Traceparent`).
type headerCarrier map[string][]string

func (h headerCarrier) Get(key string) string {
	if values := h[key]; len(values) > 0 {
		return values[0]
	}
	return ""
}
func (h headerCarrier) Set(key, value string) { h[key] = []string{value} }
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// Message is what a messaging span says of its message; its span is named after the Channel (the subject
// without its partition, messaging.ChannelOf).
type Message struct {
	Subject, Channel, MessageID, OrderID string
}

func attributes(m Message, operation string) []attribute.KeyValue {
	name := "process"
	if operation == "send" {
		name = "publish"
	}
	return []attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.operation.type", operation),
		attribute.String("messaging.operation.name", name),
		attribute.String("messaging.destination.name", m.Subject),
		attribute.String("messaging.message.id", m.MessageID),
		attribute.String("messaging.message.conversation_id", m.OrderID),
	}
}

// ProcessSpan starts the CONSUMER span of handling one delivery: a child of the publish its headers name, or,
// for a message older than LateAfter, the root of a new trace linked to it. The returned context carries it;
// Traceparent(ctx) is what the handler's own messages continue.
func ProcessSpan(m Message, headers map[string][]string, group string, deliveries int, age time.Duration) (context.Context, trace.Span) {
	sent := otel.GetTextMapPropagator().Extract(context.Background(), headerCarrier(headers))
	options := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attributes(m, "process")...),
		trace.WithAttributes(
			attribute.String("messaging.consumer.group.name", group),
			attribute.Int("messaging.nats.delivery_count", deliveries),
		),
	}
	parent := sent
	if sentSpan := trace.SpanContextFromContext(sent); age > LateAfter && sentSpan.IsValid() {
		parent = context.Background()
		options = append(options, trace.WithNewRoot(), trace.WithLinks(trace.Link{SpanContext: sentSpan}))
	}
	return tracer().Start(parent, "process "+m.Channel, options...)
}

// PublishSpan starts the relay's PRODUCER span of one outbox row, a child of the `traceparent` the row was
// written with, and writes its own context into `headers` for the consumer to continue.
func PublishSpan(m Message, headers map[string][]string) trace.Span {
	written := otel.GetTextMapPropagator().Extract(context.Background(), headerCarrier(headers))
	ctx, span := tracer().Start(written, "publish "+m.Channel,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attributes(m, "send")...))
	if span.IsRecording() {
		otel.GetTextMapPropagator().Inject(ctx, headerCarrier(headers))
	}
	return span
}

// Traceparent is the W3C trace context of ctx's span; "" when it is not recorded.
func Traceparent(ctx context.Context) string {
	carrier := headerCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// End ends span, as an error with err's message when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
