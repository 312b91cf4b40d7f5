package telemetry

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// record registers an SDK tracer provider that keeps every ended span, as Start's would export them.
func record(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	previous, previousPropagator := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(previous)
		otel.SetTextMapPropagator(previousPropagator)
	})
	return recorder
}

func TestRequestedOnlyWithAnEndpoint(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	}
	cases := map[string]struct {
		vars map[string]string
		want bool
	}{
		"nothing set":     {map[string]string{}, false},
		"an endpoint":     {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		"traces endpoint": {map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		"SDK disabled":    {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"}, false},
		"exporter none":   {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"}, false},
	}
	for name, c := range cases {
		if got := Requested(env(c.vars)); got != c.want {
			t.Errorf("%s: Requested = %v, want %v", name, got, c.want)
		}
	}
}

func TestPublishThenProcessContinuesTheWritersTrace(t *testing.T) {
	recorder := record(t)
	writer, writerSpan := otel.Tracer("test").Start(context.Background(), "CreateOrder")
	headers := map[string][]string{"traceparent": {Traceparent(writer)}}
	message := Message{Subject: "ftgo.order.event.order_approved.2", Channel: "ftgo.order.event.order_approved", MessageID: "m-1", OrderID: "o-1"}

	publish := PublishSpan(message, headers)
	End(publish, nil)
	ctx, process := ProcessSpan(message, headers, "loyalty-p2", 1, time.Millisecond)
	End(process, nil)
	writerSpan.End()

	if got := publish.SpanContext().TraceID(); got != writerSpan.SpanContext().TraceID() {
		t.Fatalf("publish in trace %s, want the writer's %s", got, writerSpan.SpanContext().TraceID())
	}
	spans := recorder.Ended()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = s
	}
	if got := byName["publish ftgo.order.event.order_approved"].Parent().SpanID(); got != writerSpan.SpanContext().SpanID() {
		t.Errorf("publish's parent %s, want the writer %s", got, writerSpan.SpanContext().SpanID())
	}
	if got := byName["process ftgo.order.event.order_approved"].Parent().SpanID(); got != publish.SpanContext().SpanID() {
		t.Errorf("process's parent %s, want the publish %s (its headers carried it)", got, publish.SpanContext().SpanID())
	}
	if got := Traceparent(ctx); got == "" || got == headers["traceparent"][0] {
		t.Errorf("Traceparent(process) = %q: what the handler sends must continue from the process span", got)
	}
}

func TestALateMessageStartsATraceLinkedToItsPublish(t *testing.T) {
	recorder := record(t)
	_, publish := otel.Tracer("test").Start(context.Background(), "publish")
	headers := map[string][]string{}
	otel.GetTextMapPropagator().Inject(contextWith(publish), headerCarrier(headers))
	publish.End()
	message := Message{Subject: "ftgo.order.event.order_created.0", Channel: "ftgo.order.event.order_created", MessageID: "m-2", OrderID: "o-2"}

	_, process := ProcessSpan(message, headers, "loyalty-p0", 1, LateAfter+time.Second)
	End(process, nil)

	var got sdktrace.ReadOnlySpan
	for _, s := range recorder.Ended() {
		if s.Name() == "process ftgo.order.event.order_created" {
			got = s
		}
	}
	if got == nil {
		t.Fatal("no process span")
	}
	if got.Parent().IsValid() || got.SpanContext().TraceID() == publish.SpanContext().TraceID() {
		t.Errorf("a late message's span has parent %v in trace %s: want a new trace", got.Parent(), got.SpanContext().TraceID())
	}
	if links := got.Links(); len(links) != 1 || links[0].SpanContext.SpanID() != publish.SpanContext().SpanID() {
		t.Errorf("links %v, want one to the publish %s", links, publish.SpanContext().SpanID())
	}
}

func contextWith(span interface{ SpanContext() trace.SpanContext }) context.Context {
	return trace.ContextWithSpanContext(context.Background(), span.SpanContext())
}
