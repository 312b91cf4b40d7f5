package messaging_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	_ "modernc.org/sqlite"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
)

// Two instances of a service share its database file: one relay publishes, the other stands by, and takes the
// outbox over when the first stops (at once: it releases its lease) or dies (once the lease has expired). The
// second test is the one that fails when a relay publishes without the lease.

const leaseTestType = "ftgo.loyalty.v1.PointsCredited"

func openShared(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	if err := messaging.CreateOutboxTable(db); err != nil {
		t.Fatal(err)
	}
	return db
}

func appendEvents(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	tx, err := db.Begin()
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
	natstest.Eventually(t, 5*time.Second, "the subscription's handler to catch up", func() bool {
		msgs, _, err := sub.Pending()
		return err == nil && msgs == 0
	})
}

func unpublished(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE published_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOneRelayPublishesPerDatabaseAndTheOtherTakesOver(t *testing.T) {
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
	path := filepath.Join(t.TempDir(), "loyalty.db")
	first, second := openShared(t, path), openShared(t, path)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	leader, err := messaging.StartRelay(first, js, log, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, "the first relay to take the lease", func() bool {
		var holders int
		_ = first.QueryRow(`SELECT COUNT(*) FROM outbox_lease`).Scan(&holders)
		return holders == 1
	})
	standby, err := messaging.StartRelay(second, js, log, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Stop()

	appendEvents(t, second, 300) // written through the standby's connection, published by the leader
	natstest.Eventually(t, 10*time.Second, "300 events published", func() bool { return unpublished(t, first) == 0 })
	if got := streamMessages(t, js); got != 300 {
		t.Fatalf("the stream holds %d messages, want 300", got)
	}
	delivered(t, nc, sub)
	if got := onTheWire.Load(); got != 300 {
		t.Fatalf("%d publishes on the wire for 300 rows", got)
	}

	leader.Stop() // releases the lease: the standby takes over at its next poll
	appendEvents(t, first, 5)
	natstest.Eventually(t, 10*time.Second, "the standby to publish the next 5", func() bool { return unpublished(t, second) == 0 })
	if got := streamMessages(t, js); got != 305 {
		t.Fatalf("the stream holds %d messages, want 305", got)
	}
	delivered(t, nc, sub)
	if got := onTheWire.Load(); got != 305 {
		t.Fatalf("%d publishes on the wire for 305 rows", got)
	}
}

func TestAStandbyWaitsOutTheLeaseOfADeadHolder(t *testing.T) {
	js, err := jetstream.New(natstest.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := messaging.EnsureEventStream(context.Background(), js, "loyalty", 1); err != nil {
		t.Fatal(err)
	}
	db := openShared(t, filepath.Join(t.TempDir(), "loyalty.db"))
	// A holder that took the lease and died without releasing it.
	ghost, err := messaging.NewLease(db, "dead-instance")
	if err != nil {
		t.Fatal(err)
	}
	if held, err := ghost.Renew(); err != nil || !held {
		t.Fatalf("the ghost could not take the lease: %v %v", held, err)
	}
	taken := time.Now()
	appendEvents(t, db, 3)
	relay, err := messaging.StartRelay(db, js, slog.New(slog.NewTextHandler(io.Discard, nil)), 50*time.Millisecond)
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
