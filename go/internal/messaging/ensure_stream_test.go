package messaging_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
)

// A start that meets a JetStream not answering yet asks again until it answers, as channels.ts's ensureStream
// does: here the server has no JetStream at all until the stream's creation has been asked for twice, and then
// comes back with one on the same port.
func TestEnsureStreamAsksAgainUntilJetStreamAnswers(t *testing.T) {
	server := natstest.StartWithoutJetStream(t)
	nc, err := nats.Connect(server.URL, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.AccountInfo(ctx); !errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		t.Fatalf("before: %v, want JetStream not enabled", err)
	}
	before := nc.Stats().OutMsgs
	ensured := make(chan error, 1)
	go func() { ensured <- messaging.EnsureEventStream(ctx, js, "loyalty", 1) }()
	// Each ask is a request this connection publishes: two of them, and it has asked again after no answer.
	natstest.Eventually(t, 30*time.Second, "the stream to be asked for twice", func() bool {
		select {
		case err := <-ensured:
			t.Fatalf("EnsureEventStream returned %v while JetStream was not there", err)
		default:
		}
		return nc.Stats().OutMsgs >= before+2
	})
	server.EnableJetStream(t)
	select {
	case err := <-ensured:
		if err != nil {
			t.Fatalf("EnsureEventStream: %v, want the stream once JetStream answers", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("EnsureEventStream did not return after JetStream came up")
	}
	if _, err := js.Stream(ctx, messaging.EventStreamName("loyalty")); err != nil {
		t.Fatalf("the stream after EnsureEventStream: %v", err)
	}
}
