package messaging_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/sqldb"
)

// Two instances of a service share its database (a SQLite file, a PostgreSQL schema): one relay publishes,
// the other stands by, and takes the outbox over when the first stops (at once: it releases its lease) or
// dies (once the lease has expired). The second test is the one that fails when a relay publishes without
// the lease.

const leaseTestType = "ftgo.loyalty.v1.PointsCredited"

// openShared opens the database as one more instance of a service would, migrated to the messaging tables.
func openShared(t *testing.T, databaseURL, sqlitePath string) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Options{URL: databaseURL, Path: sqlitePath, Schema: "relay_test", LockKey: 42})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := sqldb.Migrate(ctx, db, []sqldb.Migration{{Version: 1, Statements: messaging.Tables}}); err != nil {
		t.Fatal(err)
	}
	return db
}

func appendEvents(t *testing.T, db *sqldb.DB, n int) {
	t.Helper()
	tx, err := db.BeginWrite(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		caused := messaging.Caused{CorrelationID: "order-1"}
		if _, err := messaging.AppendEvent(tx, leaseTestType, []byte{byte(i)}, caused, 4); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func streamMessages(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	stream, err := js.Stream(context.Background(), messaging.EventStreamName("loyalty"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// delivered returns once every message the server sent sub so far has been through its handler.
func delivered(t *testing.T, nc *nats.Conn, sub *nats.Subscription) {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, "the subscription's handler to catch up", func() bool {
		msgs, _, err := sub.Pending()
		return err == nil && msgs == 0
	})
}

func unpublished(t *testing.T, db *sqldb.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOneRelayPublishesPerDatabaseAndTheOtherTakesOver(t *testing.T) {
	pgtest.ForEachEngine(t, oneRelayPublishesPerDatabaseAndTheOtherTakesOver)
}

func oneRelayPublishesPerDatabaseAndTheOtherTakesOver(t *testing.T, e pgtest.Engine) {
	nc := natstest.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// Every publish on the wire, the copies JetStream drops by their Nats-Msg-Id included.
	var onTheWire atomic.Int64
	sub, err := nc.Subscribe("ftgo.loyalty.event.>", func(*nats.Msg) { onTheWire.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := messaging.EnsureEventStream(context.Background(), js, "loyalty", 1); err != nil {
		t.Fatal(err)
	}
	databaseURL, sqlitePath := e.Fresh(t)
	first, second := openShared(t, databaseURL, sqlitePath), openShared(t, databaseURL, sqlitePath)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	leader, err := messaging.StartRelay(first.DB, js, log, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, "the first relay to take the lease", func() bool {
		var holders int
		_ = first.QueryRow(`SELECT COUNT(*) FROM outbox_lease`).Scan(&holders)
		return holders == 1
	})
	standby, err := messaging.StartRelay(second.DB, js, log, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Stop()

	appendEvents(t, second, 300) // written through the standby's connection, published by the leader
	natstest.Eventually(t, 60*time.Second, "300 events published", func() bool { return unpublished(t, first) == 0 })
	if got := streamMessages(t, js); got != 300 {
		t.Fatalf("the stream holds %d messages, want 300", got)
	}
	delivered(t, nc, sub)
	if got := onTheWire.Load(); got != 300 {
		t.Fatalf("%d publishes on the wire for 300 rows", got)
	}

	leader.Stop() // releases the lease: the standby takes over at its next poll
	appendEvents(t, first, 5)
	natstest.Eventually(t, 60*time.Second, "the standby to publish the next 5", func() bool { return unpublished(t, second) == 0 })
	if got := streamMessages(t, js); got != 305 {
		t.Fatalf("the stream holds %d messages, want 305", got)
	}
	delivered(t, nc, sub)
	if got := onTheWire.Load(); got != 305 {
		t.Fatalf("%d publishes on the wire for 305 rows", got)
	}
}

func TestAStandbyWaitsOutTheLeaseOfADeadHolder(t *testing.T) {
	pgtest.ForEachEngine(t, aStandbyWaitsOutTheLeaseOfADeadHolder)
}

func aStandbyWaitsOutTheLeaseOfADeadHolder(t *testing.T, e pgtest.Engine) {
	js, err := jetstream.New(natstest.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := messaging.EnsureEventStream(context.Background(), js, "loyalty", 1); err != nil {
		t.Fatal(err)
	}
	databaseURL, sqlitePath := e.Fresh(t)
	db := openShared(t, databaseURL, sqlitePath)
	// A holder that took the lease and died without releasing it.
	ghost := messaging.NewLease(db.DB, "dead-instance")
	if held, err := ghost.Renew(); err != nil || !held {
		t.Fatalf("the ghost could not take the lease: %v %v", held, err)
	}
	taken := time.Now()
	appendEvents(t, db, 3)
	relay, err := messaging.StartRelay(db.DB, js, slog.New(slog.NewTextHandler(io.Discard, nil)), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Stop()
	natstest.Eventually(t, 3*messaging.LeaseDuration, "the relay to publish once the lease expired", func() bool {
		return unpublished(t, db) == 0
	})
	if waited := time.Since(taken); waited < messaging.LeaseDuration {
		t.Fatalf("published %v after the dead holder took the lease, before it expired (%v)", waited, messaging.LeaseDuration)
	}
	if got := streamMessages(t, js); got != 3 {
		t.Fatalf("the stream holds %d messages, want 3", got)
	}
}
