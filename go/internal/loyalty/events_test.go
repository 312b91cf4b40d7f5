package loyalty

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	orderv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v1"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
)

// pipeline is Loyalty's messaging against a real nats-server: consumers of Order's events and the relay.
type pipeline struct {
	js    jetstream.JetStream
	store *Store
}

func startPipeline(t *testing.T, store *Store) pipeline {
	t.Helper()
	nc := natstest.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	if err := messaging.EnsureEventStream(ctx, js, "loyalty", 1); err != nil {
		t.Fatal(err)
	}
	relay, err := messaging.StartRelay(store.DB(), js, log, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	consumers, err := messaging.Consume(ctx, js, messaging.ConsumerOptions{
		Service: "loyalty", Domain: "order", Partitions: 4, Handlers: EventHandlers(store, log),
		Committed: relay.Kick, Log: log, AckWait: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { consumers.Stop(); relay.Stop() })
	return pipeline{js: js, store: store}
}

// publish sends an Order event as Order's relay does: envelope headers, partitioned subject, Nats-Msg-Id.
func (p pipeline) publish(t *testing.T, orderID, messageID string, event proto.Message, headers ...string) {
	t.Helper()
	typeName := string(proto.MessageName(event))
	subject, err := messaging.EventSubject(typeName, messaging.PartitionOf(orderID, 4))
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(subject)
	env := messaging.Envelope{MessageID: messageID, Type: typeName, CorrelationID: orderID}
	for name, value := range env.Headers() {
		msg.Header.Set(name, value)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		msg.Header.Set(headers[i], headers[i+1])
	}
	if msg.Data, err = proto.Marshal(event); err != nil {
		t.Fatal(err)
	}
	// A fresh Nats-Msg-Id each time: JetStream keeps every copy, only the inbox can tell them apart.
	if _, err := p.js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(uuid.NewString())); err != nil {
		t.Fatal(err)
	}
}

// orderCreated is an OrderCreated within its contract's limits, of one line worth `minor` US cents.
func orderCreated(orderID, consumerID string, minor int64) *orderv1.OrderCreated {
	total := &commonv1.Money{CurrencyCode: "USD", MinorUnits: minor}
	return &orderv1.OrderCreated{
		OrderId: orderID, ConsumerId: consumerID, RestaurantId: "r-1", Total: total,
		LineItems: []*orderv1.OrderLineItem{{MenuItemId: "m-1", Name: "Pad Thai", Quantity: 1, Price: total, Total: total}},
	}
}

func (p pipeline) stateOf(orderID string) State {
	op, err := p.store.OrderPoints(context.Background(), orderID)
	if err != nil {
		return 0
	}
	return op.GetState()
}

func TestOrderEventsEarnPointsOnceAndPublishPointsEarnedOnce(t *testing.T) {
	pgtest.ForEachEngine(t, func(t *testing.T, e pgtest.Engine) { orderEventsEarnPointsOnce(t, startPipeline(t, openFresh(t, e))) })
}

func orderEventsEarnPointsOnce(t *testing.T, p pipeline) {
	created := orderCreated("o-1", "c-1001", 1550)
	// Approval first, then a duplicate of every message: the end is the same as in order, once.
	p.publish(t, "o-1", "m-approved", &orderv1.OrderApproved{OrderId: "o-1"})
	p.publish(t, "o-1", "m-created", created)
	p.publish(t, "o-1", "m-approved", &orderv1.OrderApproved{OrderId: "o-1"})
	p.publish(t, "o-1", "m-created", created)
	natstest.Eventually(t, 30*time.Second, "o-1 EARNED", func() bool { return p.stateOf("o-1") == Earned })

	cons, err := p.js.OrderedConsumer(context.Background(), "FTGO_LOYALTY_EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("no PointsEarned published: %v", err)
	}
	var earned loyaltyv1.PointsEarned
	if err := proto.Unmarshal(msg.Data(), &earned); err != nil {
		t.Fatal(err)
	}
	h := msg.Headers()
	if earned.GetPoints() != 15 || earned.GetPointsBalance() != 15 || earned.GetConsumerId() != "c-1001" ||
		h.Get("Ftgo-Type") != "ftgo.loyalty.v1.PointsEarned" || h.Get("Ftgo-Correlation-Id") != "o-1" ||
		h.Get("Ftgo-Causation-Id") != "m-created" || h.Get("Content-Type") != "application/x-protobuf" ||
		h.Get("Nats-Msg-Id") != h.Get("Ftgo-Message-Id") || msg.Subject() != "ftgo.loyalty.event.points_earned.0" {
		t.Fatalf("unexpected PointsEarned %v on %s with %v", &earned, msg.Subject(), h)
	}
	// The duplicates were handled (the partition moved on) and announced nothing more.
	p.publish(t, "o-1", "m-cancelled", &orderv1.OrderCancelled{OrderId: "o-1"})
	natstest.Eventually(t, 30*time.Second, "o-1 REVOKED", func() bool { return p.stateOf("o-1") == Revoked })
	next, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil || next.Headers().Get("Ftgo-Type") != "ftgo.loyalty.v1.PointsRevoked" {
		t.Fatalf("want PointsRevoked after PointsEarned and nothing between, got %v, %v", next, err)
	}
}

func TestAMalformedMessageIsDeadLetteredAndThePartitionMovesOn(t *testing.T) {
	p := startPipeline(t, openStore(t))
	p.publish(t, "o-1", "m-bad", &orderv1.OrderApproved{OrderId: "o-1"}, "Content-Type", "application/json")
	p.publish(t, "o-1", "m-too-long", &orderv1.OrderApproved{OrderId: "not an id"})
	p.publish(t, "o-1", "m-created", orderCreated("o-1", "c-1", 1000))
	natstest.Eventually(t, 30*time.Second, "o-1 PENDING", func() bool { return p.stateOf("o-1") == Pending })

	stream, err := p.js.Stream(context.Background(), messaging.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for seq := uint64(1); seq <= 2; seq++ {
		raw, err := stream.GetMsg(context.Background(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if raw.Subject != "ftgo.deadletter.loyalty" || raw.Header.Get("Ftgo-Dead-Letter-Service") != "loyalty" {
			t.Fatalf("dead letter on %s with %v", raw.Subject, raw.Header)
		}
		reasons = append(reasons, raw.Header.Get("Ftgo-Dead-Letter-Reason"))
	}
	if len(reasons) != 2 || reasons[0] != "malformed message: unexpected Content-Type application/json" ||
		reasons[1] != "malformed message: breaks its contract: order_id: does not match regex pattern `^[A-Za-z0-9][A-Za-z0-9_.:-]*$`" {
		t.Fatalf("dead-letter reasons %q", reasons)
	}
}
