package app

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	orderv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v1"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pkitest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// loyaltyNATSUser is everything Loyalty does on NATS (FTGO_PARTITIONS=4), as a nats-server user mapped from its
// certificate (loyalty@ftgo.mesh): what the secure mode's broker must grant it, and no more.
const loyaltyNATSUser = `{ user: "loyalty@ftgo.mesh", permissions: {
  publish: { allow: [
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.FTGO_LOYALTY_EVENTS", "$JS.API.STREAM.CREATE.FTGO_LOYALTY_EVENTS",
    "$JS.API.STREAM.INFO.FTGO_ORDER_EVENTS", "$JS.API.STREAM.CREATE.FTGO_ORDER_EVENTS",
    "$JS.API.STREAM.INFO.FTGO_DEAD_LETTERS", "$JS.API.STREAM.CREATE.FTGO_DEAD_LETTERS",
    "$JS.API.STREAM.INFO.KV_ftgo_registry", "$JS.API.STREAM.CREATE.KV_ftgo_registry",
    "$JS.API.CONSUMER.CREATE.FTGO_ORDER_EVENTS.loyalty-p0.ftgo.order.event.*.0",
    "$JS.API.CONSUMER.CREATE.FTGO_ORDER_EVENTS.loyalty-p1.ftgo.order.event.*.1",
    "$JS.API.CONSUMER.CREATE.FTGO_ORDER_EVENTS.loyalty-p2.ftgo.order.event.*.2",
    "$JS.API.CONSUMER.CREATE.FTGO_ORDER_EVENTS.loyalty-p3.ftgo.order.event.*.3",
    "$JS.API.CONSUMER.MSG.NEXT.FTGO_ORDER_EVENTS.loyalty-p0", "$JS.API.CONSUMER.MSG.NEXT.FTGO_ORDER_EVENTS.loyalty-p1",
    "$JS.API.CONSUMER.MSG.NEXT.FTGO_ORDER_EVENTS.loyalty-p2", "$JS.API.CONSUMER.MSG.NEXT.FTGO_ORDER_EVENTS.loyalty-p3",
    "$JS.ACK.FTGO_ORDER_EVENTS.loyalty-p0.>", "$JS.ACK.FTGO_ORDER_EVENTS.loyalty-p1.>",
    "$JS.ACK.FTGO_ORDER_EVENTS.loyalty-p2.>", "$JS.ACK.FTGO_ORDER_EVENTS.loyalty-p3.>",
    "ftgo.loyalty.event.points_earned.*", "ftgo.loyalty.event.points_revoked.*",
    "ftgo.deadletter.loyalty",
    "$KV.ftgo_registry.loyalty.>"
  ] }
  subscribe: { allow: ["_INBOX_loyalty.>"] }
} }`

// Loyalty in the secure mode works with exactly the NATS permissions above, mapped from its certificate by a
// broker with verify_and_map: it creates its streams and the registry bucket, registers, consumes Order's
// events, publishes PointsEarned, dead-letters a malformed event and deregisters, and the broker logs no
// permissions violation. That the permissions bite is checked too: the same certificate may not subscribe to
// Order's subjects directly.
func TestLoyaltyNeedsOnlyItsListedNATSPermissions(t *testing.T) {
	pki := pkitest.Init(t)
	admin := []nats.Option{nats.RootCAs(pki.CA()), nats.ClientCert(pki.Cert("admin"), pki.Key("admin"))}
	url, logFile := natstest.StartTLSMapped(t, pki.CA(), pki.Cert("nats"), pki.Key("nats"),
		"authorization { users = [ { user: \"admin@ftgo.mesh\" }\n"+loyaltyNATSUser+"\n] }", admin...)

	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("nats-server's log:\n%s", log)
		}
	})

	// The permissions bite: loyalty's certificate may not read Order's subjects directly.
	violations := make(chan error, 4)
	probe, err := nats.Connect(url, nats.RootCAs(pki.CA()), nats.ClientCert(pki.Cert("loyalty"), pki.Key("loyalty")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe.SubscribeSync("ftgo.order.event.>"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("want a permissions violation, got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("subscribing to ftgo.order.event.> with loyalty's certificate was not refused")
	}
	probe.Close()

	port := proctest.FreePort(t)
	env := pki.Env("loyalty")
	env["PORT"], env["DATA_DIR"], env["NATS_URL"] = strconv.Itoa(port), t.TempDir(), url
	r := startRun(t, env)

	nc, err := nats.Connect(url, admin...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	registered := func() int {
		kv, err := js.KeyValue(ctx, "ftgo_registry")
		if err != nil {
			return 0
		}
		keys, _ := kv.Keys(ctx)
		return len(keys)
	}
	natstest.Eventually(t, 60*time.Second, "loyalty to register", func() bool {
		r.failIfReturned(t)
		return registered() == 1
	})

	publish := func(orderID string, event proto.Message, body []byte) {
		t.Helper()
		typeName := string(proto.MessageName(event))
		subject, err := messaging.EventSubject(typeName, messaging.PartitionOf(orderID, 4))
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg(subject)
		for name, value := range (messaging.Envelope{MessageID: uuid.NewString(), Type: typeName, CorrelationID: orderID}).Headers() {
			msg.Header.Set(name, value)
		}
		if msg.Data = body; body == nil {
			if msg.Data, err = proto.Marshal(event); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	total := &commonv1.Money{CurrencyCode: "USD", MinorUnits: 1500}
	publish("o-1", &orderv1.OrderCreated{OrderId: "o-1", ConsumerId: "c-1", RestaurantId: "r-1", Total: total,
		LineItems: []*orderv1.OrderLineItem{{MenuItemId: "m-1", Name: "Pho bo", Quantity: 1, Price: total, Total: total}}}, nil)
	publish("o-1", &orderv1.OrderApproved{OrderId: "o-1"}, nil)
	publish("o-2", &orderv1.OrderCreated{}, []byte("not protobuf"))

	streamMessages := func(name string) uint64 {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return 0
		}
		info, err := s.Info(ctx)
		if err != nil {
			return 0
		}
		return info.State.Msgs
	}
	natstest.Eventually(t, 30*time.Second, "PointsEarned in FTGO_LOYALTY_EVENTS", func() bool {
		r.failIfReturned(t)
		return streamMessages("FTGO_LOYALTY_EVENTS") == 1
	})
	natstest.Eventually(t, 30*time.Second, "the malformed event in FTGO_DEAD_LETTERS", func() bool {
		r.failIfReturned(t)
		return streamMessages("FTGO_DEAD_LETTERS") == 1
	})

	r.shutDown(t)
	if n := registered(); n != 0 {
		t.Fatalf("%d registry entries after shutdown, want 0 (deregistered)", n)
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var denied []string
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "Violation") && !strings.Contains(line, `"ftgo.order.event.>"`) {
			denied = append(denied, line)
		}
	}
	if len(denied) > 0 {
		t.Fatalf("loyalty needed more than its permissions:\n%s", strings.Join(denied, "\n"))
	}
}
