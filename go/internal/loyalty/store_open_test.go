package loyalty

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
)

func schemaVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	rows, err := s.DB().Query(`SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	return versions
}

// Instances starting at once on one database migrate it once between them, and a restart migrates nothing.
func TestInstancesStartingAtOnceAndAgainMigrateOnce(t *testing.T) {
	pgtest.ForEachEngine(t, func(t *testing.T, e pgtest.Engine) {
		databaseURL, sqlitePath := e.Fresh(t)
		stores := make([]*Store, 4)
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = Open(context.Background(), databaseURL, sqlitePath, 4) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("instance %d did not open: %v", i, err)
			}
			t.Cleanup(func() { _ = stores[i].Close() })
		}
		record(t, stores[0], "o-1", message{"m-1", Created("c-1", 7)}, message{"m-2", Approved})

		again := openOn(t, databaseURL, sqlitePath)
		if got := fmt.Sprint(schemaVersions(t, again)); got != "[1]" {
			t.Fatalf("schema versions %s, want [1]", got)
		}
		if a, err := again.Account(context.Background(), "c-1"); err != nil || a.GetPointsBalance() != 7 {
			t.Fatalf("after reopening: account %v, %v; want 7 points", a, err)
		}
		if e.Name == "postgres" {
			var tables int
			err := again.DB().QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'loyalty'`).Scan(&tables)
			if err != nil || tables != 6 {
				t.Fatalf("%d tables in schema loyalty (%v), want 6: the store's 5 and schema_version", tables, err)
			}
		}
	})
}

// A SQLite store created before schema versions existed opens as it is, its data intact.
func TestASQLiteStoreFromBeforeVersioningOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loyalty.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	// The schema as the unversioned store created it.
	for _, stmt := range []string{
		`CREATE TABLE order_points (order_id TEXT PRIMARY KEY, consumer_id TEXT NOT NULL DEFAULT '',
			points INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL, created INTEGER NOT NULL DEFAULT 0,
			approved INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
			cancelled INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)`,
		`CREATE TABLE accounts (consumer_id TEXT PRIMARY KEY, points_balance INTEGER NOT NULL, orders_rewarded INTEGER NOT NULL)`,
		`CREATE TABLE processed_messages (message_id TEXT PRIMARY KEY, type TEXT NOT NULL, processed_at INTEGER NOT NULL)`,
		`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
			subject TEXT NOT NULL, type TEXT NOT NULL, correlation_id TEXT NOT NULL, headers TEXT NOT NULL,
			payload BLOB NOT NULL, created_at INTEGER NOT NULL, published_at INTEGER)`,
		`INSERT INTO accounts VALUES ('c-1', 40, 2)`,
		`INSERT INTO processed_messages VALUES ('m-1', 'ftgo.order.v1.OrderApproved', 1)`,
	} {
		if _, err := old.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	_ = old.Close()

	s := openOn(t, "", path)
	if got := fmt.Sprint(schemaVersions(t, s)); got != "[1]" {
		t.Fatalf("schema versions %s, want [1]", got)
	}
	if a, err := s.Account(context.Background(), "c-1"); err != nil || a.GetPointsBalance() != 40 {
		t.Fatalf("account %v, %v; want the 40 points stored before", a, err)
	}
	env := messaging.Envelope{MessageID: "m-1", Type: "ftgo.order.v1.OrderApproved", CorrelationID: "o-1"}
	if first, err := s.Record(context.Background(), env, "o-1", Approved); err != nil || first {
		t.Fatalf("a message handled before was handled again: %v, %v", first, err)
	}
}
