package messaging

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetterStream holds the messages services gave up on, under ftgo.deadletter.<service>.
const DeadLetterStream = "FTGO_DEAD_LETTERS"

// Dead-letter headers, added to the original ones (dead-letters.ts).
const (
	HeaderDeadLetterReason  = "Ftgo-Dead-Letter-Reason"
	HeaderDeadLetterService = "Ftgo-Dead-Letter-Service"
	HeaderOriginalSubject   = "Ftgo-Original-Subject"
	HeaderOriginalStream    = "Ftgo-Original-Stream"
	HeaderOriginalSequence  = "Ftgo-Original-Sequence"
	HeaderDeliveries        = "Ftgo-Deliveries"
)

// EnsureDeadLetterStream creates the dead-letter stream as the TypeScript services do, with `replicas`
// copies (0 is the server's default, 1), unless it exists.
func EnsureDeadLetterStream(ctx context.Context, js jetstream.JetStream, replicas int) error {
	return ensureStream(ctx, js, jetstream.StreamConfig{
		Name:        DeadLetterStream,
		Description: "Messages a service gave up on: replay them with `npm run dead-letters -- replay <seq>`",
		Subjects:    []string{"ftgo.deadletter.>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  duplicateWindow,
		AllowDirect: true,
		Replicas:    replicas,
	})
}

// SendToDeadLetters publishes msg as a dead letter of `service` with `reason`, keyed by its stream
// position so that a retry after a lost acknowledgement stores it once; the caller then terminates it.
func SendToDeadLetters(ctx context.Context, js jetstream.JetStream, service string, msg jetstream.Msg, reason string) error {
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("reading the message's metadata: %w", err)
	}
	dead := nats.NewMsg("ftgo.deadletter." + service)
	for name, values := range msg.Headers() {
		if len(values) > 0 {
			dead.Header.Set(name, values[0])
		}
	}
	dead.Header.Set(HeaderDeadLetterReason, truncate(strings.Join(strings.Fields(reason), " "), 1000))
	dead.Header.Set(HeaderDeadLetterService, service)
	dead.Header.Set(HeaderOriginalSubject, msg.Subject())
	dead.Header.Set(HeaderOriginalStream, meta.Stream)
	dead.Header.Set(HeaderOriginalSequence, strconv.FormatUint(meta.Sequence.Stream, 10))
	dead.Header.Set(HeaderDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
	dead.Data = msg.Data()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msgID := fmt.Sprintf("%s.%d.%s.dead", meta.Stream, meta.Sequence.Stream, service)
	if _, err := js.PublishMsg(ctx, dead, jetstream.WithMsgID(msgID)); err != nil {
		return fmt.Errorf("publishing the dead letter: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
