package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/metrics"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/telemetry"
)

// DeadLetterAttempts are the deliveries, after MaxDeliver, in which dead-lettering may still fail and
// be retried (consumer.ts's DEAD_LETTER_ATTEMPTS): the durables' max_deliver is their sum.
const DeadLetterAttempts = 5

// Handler handles one message of a type the consumer subscribes to. It returns nil once its effect
// has committed (or the message was a duplicate); a *MalformedError for a message that can never be
// handled; any other error to have the message redelivered after a backoff.
type Handler func(ctx context.Context, env Envelope, body []byte) error

// ConsumerOptions configures Consume.
type ConsumerOptions struct {
	// Service names the durables (<service>-p<k>) and the dead letters (ftgo.deadletter.<service>).
	Service string
	// Domain is the publisher whose events are consumed: its stream FTGO_<DOMAIN>_EVENTS.
	Domain     string
	Partitions int
	// Replicas is how many copies of the streams it ensures JetStream keeps (FTGO_STREAM_REPLICAS); 0 is 1.
	Replicas int
	// Handlers by full type name; events of other types on the stream are acknowledged and skipped.
	Handlers map[string]Handler
	// AckWait before JetStream redelivers an unacknowledged message. Default 10 s.
	AckWait time.Duration
	// MaxDeliver is the attempts before a failing message goes to the dead letters. Default 5.
	MaxDeliver int
	// Committed is called after each acknowledged message (to kick the outbox relay).
	Committed func()
	Log       *slog.Logger
}

// clusterPullExpiry is how long one pull request lasts when the streams are replicated (ConsumerOptions.Replicas > 1).
const clusterPullExpiry = 5 * time.Second

// Consumers pull a domain's events, one partition durable each, until Stop.
type Consumers struct {
	contexts []jetstream.ConsumeContext
	// inFlight is read-locked while a message is handled; Stop write-locks it to wait for the last one.
	inFlight sync.RWMutex
	stopping bool
}

// Consume ensures the domain's event stream, the dead-letter stream and one durable per partition, named
// and configured as the TypeScript consumer names and configures them (so Go and TypeScript instances
// of one service could even share them), then pulls every partition. Each durable allows one
// unacknowledged message, so an order's events are handled one at a time, in publishing order; a
// message is acknowledged only after its handler committed.
func Consume(ctx context.Context, js jetstream.JetStream, o ConsumerOptions) (*Consumers, error) {
	if o.AckWait == 0 {
		o.AckWait = 10 * time.Second
	}
	if o.MaxDeliver == 0 {
		o.MaxDeliver = 5
	}
	if err := EnsureEventStream(ctx, js, o.Domain, o.Replicas); err != nil {
		return nil, err
	}
	if err := EnsureDeadLetterStream(ctx, js, o.Replicas); err != nil {
		return nil, err
	}
	stream := EventStreamName(o.Domain)
	c := &Consumers{}
	durables := make([]string, 0, o.Partitions)
	for p := range o.Partitions {
		name := fmt.Sprintf("%s-p%d", o.Service, p)
		consumer, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable:       name,
			Description:   fmt.Sprintf("%s instances compete for partition %d of %s", o.Service, p, stream),
			FilterSubject: PartitionFilter(o.Domain, p),
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxAckPending: 1,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       o.AckWait,
			MaxDeliver:    o.MaxDeliver + DeadLetterAttempts,
		})
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("creating durable %s on %s: %w", name, stream, err)
		}
		pull := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)}
		if o.Replicas > 1 {
			// A pull waits on the consumer's leader only; when that node dies, the new leader knows nothing of
			// it and the client notices by missed idle heartbeats (half the expiry each): 5 s, not 30 s, on a
			// cluster (consumer.ts's CLUSTER_PULL_EXPIRES_MS).
			pull = append(pull, jetstream.PullExpiry(clusterPullExpiry))
		}
		cc, err := consumer.Consume(func(msg jetstream.Msg) { c.deliver(js, o, msg) }, pull...)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("consuming %s/%s: %w", stream, name, err)
		}
		c.contexts = append(c.contexts, cc)
		durables = append(durables, stream+"/"+name)
	}
	o.Log.Info("consuming", "durables", durables)
	return c, nil
}

// Stop stops pulling and waits for the message in flight to finish (commit and ack).
func (c *Consumers) Stop() {
	c.inFlight.Lock()
	c.stopping = true
	c.inFlight.Unlock()
	for _, cc := range c.contexts {
		cc.Stop()
	}
	for _, cc := range c.contexts {
		<-cc.Closed()
	}
}

// deliver handles one delivery, start to finish: decode, handle once, then ack, nak or dead-letter.
func (c *Consumers) deliver(js jetstream.JetStream, o ConsumerOptions, msg jetstream.Msg) {
	c.inFlight.RLock()
	defer c.inFlight.RUnlock()
	if c.stopping {
		_ = msg.Nak() // pulled while stopping: back at once, for another instance to take
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.AckWait)
	defer cancel()
	meta, err := msg.Metadata()
	if err != nil {
		o.Log.Error("message without JetStream metadata", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	env, err := ReadEnvelope(msg.Headers())
	if err != nil {
		c.deadLetter(ctx, js, o, msg, meta, err.Error())
		return
	}
	handle, ok := o.Handlers[env.Type]
	if !ok {
		_ = msg.Ack() // another event on the stream, not for this service
		return
	}
	log := o.Log.With("orderId", env.CorrelationID, "messageId", env.MessageID, "type", env.Type)
	// In a span of its own, a child of the message's publish: what the handler sends continues from it.
	channel := ChannelOf(msg.Subject())
	message := telemetry.Message{Subject: msg.Subject(), Channel: channel, MessageID: env.MessageID, OrderID: env.CorrelationID}
	spanCtx, span := telemetry.ProcessSpan(message, msg.Headers(), meta.Consumer, int(meta.NumDelivered), time.Since(meta.Timestamp))
	if traceparent := telemetry.Traceparent(spanCtx); traceparent != "" {
		env.TraceParent = traceparent
	}
	err = handle(trace.ContextWithSpan(ctx, span), env, msg.Data())
	telemetry.End(span, err)
	if err != nil {
		var malformed *MalformedError
		deliveries := int(meta.NumDelivered)
		switch {
		case errors.As(err, &malformed):
			c.deadLetter(ctx, js, o, msg, meta, err.Error())
		case deliveries >= o.MaxDeliver:
			c.deadLetter(ctx, js, o, msg, meta, fmt.Sprintf("handler failed %d times: %v", deliveries, err))
		default:
			log.Warn("message handler failed; it will be redelivered", "err", err, "deliveries", deliveries)
			_ = msg.NakWithDelay(retryDelay(deliveries))
		}
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		log.Warn("ack not confirmed; a redelivery will be recognised as a duplicate", "err", err)
	}
	metrics.Consumed(channel, int(meta.NumDelivered))
	if o.Committed != nil {
		o.Committed()
	}
}

func (c *Consumers) deadLetter(ctx context.Context, js jetstream.JetStream, o ConsumerOptions, msg jetstream.Msg, meta *jetstream.MsgMetadata, reason string) {
	where := []any{"subject", msg.Subject(), "streamSequence", meta.Sequence.Stream, "reason", reason}
	if err := SendToDeadLetters(ctx, js, o.Service, msg, reason); err != nil {
		if int(meta.NumDelivered) < o.MaxDeliver+DeadLetterAttempts {
			o.Log.Error("could not dead-letter a message; it will be redelivered", append(where, "err", err)...)
			_ = msg.NakWithDelay(retryDelay(int(meta.NumDelivered)))
			return
		}
		_ = msg.Term()
		o.Log.Error("could not dead-letter a message on its last delivery; it stays only in its stream", append(where, "err", err)...)
		return
	}
	_ = msg.Term()
	metrics.DeadLettered(ChannelOf(msg.Subject()))
	o.Log.Error("message moved to the dead letters", where...)
}

// retryDelay before redelivering a message whose handler failed: 200 ms, 400 ms, … at most 5 s.
func retryDelay(deliveries int) time.Duration {
	d := 200 * time.Millisecond << max(0, min(deliveries-1, 5))
	return min(d, 5*time.Second)
}
