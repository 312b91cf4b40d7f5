package messaging

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream settings every service uses for a domain's channels (channels.ts): file storage, a two-minute
// duplicate window for Nats-Msg-Id, seven days of history.
const (
	duplicateWindow = 2 * time.Minute
	maxAge          = 7 * 24 * time.Hour
)

// PartitionOf is the partition of a key (the order id): FNV-1a 32-bit of its UTF-8 bytes modulo
// `partitions`, the same function as partitionOf in TypeScript, so an order's events land on the
// partition its durables read in order.
func PartitionOf(key string, partitions int) int {
	hash := uint32(0x811c9dc5)
	for _, b := range []byte(key) {
		hash ^= uint32(b)
		hash *= 0x01000193
	}
	return int(hash % uint32(partitions))
}

var (
	lowerUpper = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	upperWord  = regexp.MustCompile(`([A-Z])([A-Z][a-z])`)
)

// EventName is a message name in snake_case: PointsEarned → points_earned.
func EventName(messageName string) string {
	s := lowerUpper.ReplaceAllString(messageName, "${1}_${2}")
	return strings.ToLower(upperWord.ReplaceAllString(s, "${1}_${2}"))
}

// DomainOf is the publishing domain of a full type name: ftgo.order.v1.OrderCreated → order.
func DomainOf(typeName string) (string, error) {
	parts := strings.Split(typeName, ".")
	if len(parts) != 4 || parts[0] != "ftgo" || parts[1] == "" {
		return "", fmt.Errorf("%s is not an ftgo message type (ftgo.<domain>.<version>.<Name>)", typeName)
	}
	return parts[1], nil
}

// EventSubject is the subject of an event of `typeName` in `partition`: ftgo.loyalty.event.points_earned.2.
func EventSubject(typeName string, partition int) (string, error) {
	domain, err := DomainOf(typeName)
	if err != nil {
		return "", err
	}
	name := typeName[strings.LastIndexByte(typeName, '.')+1:]
	return fmt.Sprintf("ftgo.%s.event.%s.%d", domain, EventName(name), partition), nil
}

// EventStreamName is the stream of a domain's events: order → FTGO_ORDER_EVENTS.
func EventStreamName(domain string) string { return "FTGO_" + strings.ToUpper(domain) + "_EVENTS" }

// PartitionFilter is the filter subject of one partition of a domain's events.
func PartitionFilter(domain string, partition int) string {
	return fmt.Sprintf("ftgo.%s.event.*.%d", domain, partition)
}

// EnsureEventStream creates the stream of a domain's events with the settings the TypeScript services
// give it, `replicas` copies of it (FTGO_STREAM_REPLICAS; 0 is the server's default, 1), unless it exists. An existing stream is left as it is: its publisher owns its settings, and
// an update with Go's zero values could differ from them in a field this code does not know.
func EnsureEventStream(ctx context.Context, js jetstream.JetStream, domain string, replicas int) error {
	return ensureStream(ctx, js, jetstream.StreamConfig{
		Name:        EventStreamName(domain),
		Description: fmt.Sprintf("Events published by the %s service", domain),
		Subjects:    []string{fmt.Sprintf("ftgo.%s.event.>", domain)},
		Storage:     jetstream.FileStorage,
		Duplicates:  duplicateWindow,
		MaxAge:      maxAge,
		Replicas:    replicas,
	})
}

// ensureWithin is how long a start keeps asking JetStream for a stream while it does not answer, and the pauses
// between the requests: 250 ms, doubling up to 4 s, as channels.ts's ensureStream.
const (
	ensureWithin    = time.Minute
	ensureFirstWait = 250 * time.Millisecond
	ensureMaxWait   = 4 * time.Second
)

// ensureStream creates the stream unless it exists. A request JetStream leaves unanswered (a cluster still
// electing its leaders, a server whose JetStream is not up yet, or one too busy to answer in time) is asked
// again, for up to ensureWithin: creating is idempotent, and a service that gave up here would not start.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	return askWhileUnanswered(ctx, ensureWithin, func() error { return ensureStreamOnce(ctx, js, cfg) })
}

func ensureStreamOnce(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	if _, err := js.Stream(ctx, cfg.Name); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("looking up stream %s: %w", cfg.Name, err)
	}
	// Another service may create it at the same moment: that is as good.
	if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
	}
	return nil
}

// askWhileUnanswered calls ask until it succeeds, fails otherwise than unanswered, `within` would pass before
// the next request, or ctx ends.
func askWhileUnanswered(ctx context.Context, within time.Duration, ask func() error) error {
	deadline := time.Now().Add(within)
	for wait := ensureFirstWait; ; wait = min(2*wait, ensureMaxWait) {
		err := ask()
		if err == nil || !unanswered(err) || ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// unanswered is a JetStream request nobody answered: no responders (JetStream not up on this server), or none
// within the request's timeout.
func unanswered(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// ChannelOf drops the partition from a channel subject: `ftgo.order.event.order_approved.3` →
// `ftgo.order.event.order_approved` (channel-name.ts's channelName): what spans are named after and metrics count by.
func ChannelOf(subject string) string {
	i := strings.LastIndexByte(subject, '.')
	if _, err := strconv.Atoi(subject[i+1:]); i >= 0 && err == nil {
		return subject[:i]
	}
	return subject
}
