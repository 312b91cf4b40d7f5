package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const eventsUsage = `usage: ftgo events [flags]

Tails the saga's messages from JetStream (every FTGO_<DOMAIN>_EVENTS, _COMMANDS and _REPLIES stream) and
prints each on one line, decoded from protobuf by its Ftgo-Type header: the subject, the type, the order id
and the message as protojson. The messages already stored come first, oldest first across the streams;
then new ones as they are published, until Ctrl-C or --count.

It reads through ordered consumers: ephemeral, in memory, without acknowledgements. It creates no durable
consumer and takes no message from the services' consumers.

flags:
  --since DURATION   start with the messages of the last DURATION (default 10m)
  --all              start with every message the streams hold
  --new              only messages published from now on
  --order ID         only the messages of this order (their Ftgo-Correlation-Id)
  --count N          exit after N messages (default: run until Ctrl-C)
  --nats-url URL     the NATS server (env NATS_URL; default nats://127.0.0.1:4222)
  --timeout DURATION how long connecting and each JetStream request may take (default 10s)
`

// sagaStream matches the streams behind the channels (packages/platform/src/messaging/channels.ts); the
// dead letters and anything else on the server are left out.
var sagaStream = regexp.MustCompile(`^FTGO_[A-Z][A-Z0-9]*_(EVENTS|COMMANDS|REPLIES)$`)

// catchUpStall is how long gathering the stored messages may go without a single one arriving before
// printing starts anyway: a stream that stopped delivering must not hold the tail forever. It is measured
// from the last message, not from the start, so a slow but moving catch-up (a busy machine) is never cut
// short and printed out of order.
const catchUpStall = 15 * time.Second

type eventsArgs struct {
	url     string
	timeout time.Duration
	start   jetstream.OrderedConsumerConfig
	orderID string
	count   int
}

func parseEventsArgs(args []string, getenv func(string) string, now time.Time) (*eventsArgs, error) {
	fs := newFlagSet("events")
	url := addrFlag(fs, "nats-url", "NATS_URL", defaultNatsURL, "the NATS server", getenv)
	timeout := timeoutFlag(fs)
	since := fs.Duration("since", 10*time.Minute, "start this long ago")
	all := fs.Bool("all", false, "start with every stored message")
	onlyNew := fs.Bool("new", false, "only new messages")
	orderID := fs.String("order", "", "only this order's messages")
	count := fs.Int("count", 0, "exit after this many messages")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("takes no arguments, got %q", strings.Join(rest, " "))
	}
	sinceSet := false
	fs.Visit(func(f *flag.Flag) { sinceSet = sinceSet || f.Name == "since" })
	picked := 0
	for _, set := range []bool{sinceSet, *all, *onlyNew} {
		if set {
			picked++
		}
	}
	if picked > 1 {
		return nil, usagef("--since, --all and --new exclude each other")
	}
	if err := positiveDuration("timeout", *timeout); err != nil {
		return nil, err
	}
	if *count < 0 {
		return nil, usagef("--count must be 0 (no limit) or more, not %d", *count)
	}
	if *orderID != "" {
		if err := checkID("--order", *orderID); err != nil {
			return nil, err
		}
	}
	parsed := &eventsArgs{url: *url, timeout: *timeout, orderID: *orderID, count: *count}
	switch {
	case *all:
		parsed.start.DeliverPolicy = jetstream.DeliverAllPolicy
	case *onlyNew:
		parsed.start.DeliverPolicy = jetstream.DeliverNewPolicy
	default:
		if err := positiveDuration("since", *since); err != nil {
			return nil, err
		}
		from := now.Add(-*since)
		parsed.start.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		parsed.start.OptStartTime = &from
	}
	return parsed, nil
}

func runEvents(ctx context.Context, args []string, io IO) error {
	parsed, err := parseEventsArgs(args, io.Getenv, time.Now())
	if err != nil {
		return err
	}
	// A server gone for good (nats.go gives up reconnecting after about two minutes) ends the tail with an error.
	// In the secure mode (FTGO_TLS_*), TLS with the operator's certificate, by which the broker maps it to a user.
	identity, err := meshTLS(io.Getenv)
	if err != nil {
		return err
	}
	closed := make(chan struct{})
	nc, err := nats.Connect(parsed.url, append([]nats.Option{nats.Name("ftgo-cli events"), nats.Timeout(parsed.timeout),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) })}, identity.NatsOptions()...)...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", parsed.url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(parsed.timeout))
	if err != nil {
		return fmt.Errorf("JetStream at %s: %w", parsed.url, err)
	}
	streams, err := sagaStreams(ctx, js)
	if err != nil {
		return err
	}
	if len(streams) == 0 {
		return fmt.Errorf("no saga streams (FTGO_*_EVENTS) on %s: is make up running there?", parsed.url)
	}
	tail := &tailer{args: parsed, out: io.Stdout, received: make(chan received, 256), closed: closed}
	return tail.run(ctx, js, streams)
}

// sagaStreams lists the streams to tail, sorted.
func sagaStreams(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	lister := js.StreamNames(ctx)
	var names []string
	for name := range lister.Name() {
		if sagaStream.MatchString(name) {
			names = append(names, name)
		}
	}
	if err := lister.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return nil, fmt.Errorf("list the JetStream streams: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// received is a message from one stream's ordered consumer; caughtUp says that stream has no older
// message left to deliver.
type received struct {
	msg      jetstream.Msg
	meta     *jetstream.MsgMetadata
	stream   string
	caughtUp bool
}

type tailer struct {
	args     *eventsArgs
	out      io.Writer
	received chan received
	closed   <-chan struct{}
	printed  int
}

// run starts one ordered consumer per stream. Until every stream has delivered what it held at the start,
// the messages are gathered and then printed oldest first across the streams (each stream alone is in
// order, the streams among themselves are not); after that each is printed as it arrives.
func (t *tailer) run(ctx context.Context, js jetstream.JetStream, streams []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	behind := map[string]bool{}
	for _, stream := range streams {
		stop, pending, err := t.consume(ctx, js, stream)
		if err != nil {
			return err
		}
		defer stop()
		if pending > 0 {
			behind[stream] = true
		}
	}
	var backlog []received
	catchUp := time.NewTimer(catchUpStall)
	defer catchUp.Stop()
	flush := func() bool {
		sort.SliceStable(backlog, func(i, j int) bool { return backlog[i].meta.Timestamp.Before(backlog[j].meta.Timestamp) })
		for _, r := range backlog {
			if t.print(r) {
				return true
			}
		}
		backlog = nil
		return false
	}
	if len(behind) == 0 && flush() {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C: the reader has seen enough
		case <-t.closed:
			return fmt.Errorf("lost the connection to NATS at %s", t.args.url)
		case <-catchUp.C:
			if len(behind) > 0 {
				// Whatever has arrived meanwhile is older than what will: it goes into this flush.
				for drained := false; !drained; {
					select {
					case r := <-t.received:
						backlog = append(backlog, r)
					default:
						drained = true
					}
				}
				behind = map[string]bool{}
				if flush() {
					return nil
				}
			}
		case r := <-t.received:
			if len(behind) == 0 {
				if t.print(r) {
					return nil
				}
				continue
			}
			backlog = append(backlog, r)
			if r.caughtUp {
				delete(behind, r.stream)
			}
			catchUp.Reset(catchUpStall) // Go ≥ 1.23: a reset timer never delivers the stale expiry
			if len(behind) == 0 && flush() {
				return nil
			}
		}
	}
}

// consume starts the ordered consumer of one stream; it returns how to stop it and how many messages the
// stream holds from the chosen start.
func (t *tailer) consume(ctx context.Context, js jetstream.JetStream, stream string) (func(), uint64, error) {
	consumer, err := js.OrderedConsumer(ctx, stream, t.args.start)
	if err != nil {
		return nil, 0, fmt.Errorf("read stream %s: %w", stream, err)
	}
	var pending uint64
	if info := consumer.CachedInfo(); info != nil {
		pending = info.NumPending
	}
	cc, err := consumer.Consume(func(msg jetstream.Msg) {
		meta, err := msg.Metadata()
		if err != nil {
			return // not a JetStream message: cannot happen on a consumer's subscription
		}
		select {
		case t.received <- received{msg: msg, meta: meta, stream: stream, caughtUp: meta.NumPending == 0}:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read stream %s: %w", stream, err)
	}
	stop := func() {
		cc.Stop()
		// The server would drop the consumer after 5 idle minutes anyway; deleting it now leaves no trace.
		if info := consumer.CachedInfo(); info != nil {
			ctx, cancel := context.WithTimeout(context.Background(), t.args.timeout)
			defer cancel()
			_ = js.DeleteConsumer(ctx, stream, info.Name) // best effort: it expires on its own
		}
	}
	return stop, pending, nil
}

// print writes one message unless --order filters it out; it reports whether --count is reached.
func (t *tailer) print(r received) bool {
	orderID := r.msg.Headers().Get(headerCorrelationID)
	if t.args.orderID != "" && orderID != t.args.orderID {
		return false
	}
	fmt.Fprintln(t.out, eventLine(r.msg.Subject(), r.msg.Headers().Get(headerType), orderID,
		r.msg.Headers().Get(headerContentType), r.msg.Data()))
	t.printed++
	return t.args.count > 0 && t.printed >= t.args.count
}

// eventLine is one message on one line: subject, type, order id, and the body as protojson (or why it
// cannot be decoded).
func eventLine(subject, typeName, orderID, contentType string, body []byte) string {
	if orderID == "" {
		orderID = "-"
	}
	text, err := decodeBody(typeName, contentType, body)
	if err != nil {
		text = fmt.Sprintf("(%d bytes not decoded: %s)", len(body), err)
	}
	shortType := typeName
	if shortType == "" {
		shortType = "-"
	}
	return fmt.Sprintf("%s  %s  order=%s  %s", subject, shortType, orderID, text)
}
