package loyalty

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
)

// openStore opens a fresh store in SQLite, as the service does without DATABASE_URL.
func openStore(t *testing.T) *Store {
	t.Helper()
	return openOn(t, "", filepath.Join(t.TempDir(), "loyalty.db"))
}

// openFresh opens a fresh store on the engine.
func openFresh(t *testing.T, e pgtest.Engine) *Store {
	t.Helper()
	databaseURL, sqlitePath := e.Fresh(t)
	return openOn(t, databaseURL, sqlitePath)
}

func openOn(t *testing.T, databaseURL, sqlitePath string) *Store {
	t.Helper()
	s, err := Open(context.Background(), databaseURL, sqlitePath, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// message is one heard event: its id and what it says.
type message struct {
	id   string
	fact Fact
}

func record(t *testing.T, s *Store, orderID string, msgs ...message) {
	t.Helper()
	for _, m := range msgs {
		env := messaging.Envelope{MessageID: m.id, Type: "ftgo.order.v1.Test", CorrelationID: orderID}
		if _, err := s.Record(context.Background(), env, orderID, m.fact); err != nil {
			t.Fatal(err)
		}
	}
}

func outboxTypes(t *testing.T, s *Store, orderID string) []string {
	t.Helper()
	rows, err := s.DB().Query(`SELECT type FROM outbox WHERE correlation_id = $1 ORDER BY seq`, orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var types []string
	for rows.Next() {
		var typ string
		if err := rows.Scan(&typ); err != nil {
			t.Fatal(err)
		}
		types = append(types, typ)
	}
	return types
}

func TestAMessageTakesEffectOnce(t *testing.T) {
	pgtest.ForEachEngine(t, func(t *testing.T, e pgtest.Engine) { aMessageTakesEffectOnce(t, openFresh(t, e)) })
}

func aMessageTakesEffectOnce(t *testing.T, s *Store) {
	created, approved := message{"m-1", Created("c-1", 15)}, message{"m-2", Approved}
	record(t, s, "o-1", created, approved, approved, created)
	env := messaging.Envelope{MessageID: "m-2", Type: "ftgo.order.v1.OrderApproved", CorrelationID: "o-1"}
	if first, err := s.Record(context.Background(), env, "o-1", Approved); err != nil || first {
		t.Fatalf("a redelivered message was handled again: first=%v err=%v", first, err)
	}
	a, err := s.Account(context.Background(), "c-1")
	if err != nil || a.GetPointsBalance() != 15 || a.GetOrdersRewarded() != 1 {
		t.Fatalf("account %v, %v: want 15 points from 1 order", a, err)
	}
	if got := outboxTypes(t, s, "o-1"); len(got) != 1 || got[0] != "ftgo.loyalty.v1.PointsEarned" {
		t.Fatalf("outbox %v: want one PointsEarned", got)
	}
}

func TestEveryArrivalOrderEndsTheSame(t *testing.T) {
	pgtest.ForEachEngine(t, everyArrivalOrderEndsTheSame)
}

func everyArrivalOrderEndsTheSame(t *testing.T, e pgtest.Engine) {
	created, approved, cancelled, rejected := message{"c", Created("c-1", 20)}, message{"a", Approved}, message{"x", Cancelled}, message{"r", Rejected}
	for _, c := range []struct {
		name    string
		msgs    []message
		state   State
		balance int64 // -1: no account
		events  []string
	}{
		{"created, approved", []message{created, approved}, Earned, 20, []string{"ftgo.loyalty.v1.PointsEarned"}},
		{"approved before created", []message{approved, created}, Earned, 20, []string{"ftgo.loyalty.v1.PointsEarned"}},
		{"rejected", []message{created, rejected}, None, -1, nil},
		{"rejected before created", []message{rejected, created}, None, -1, nil},
		{"approved then cancelled", []message{created, approved, cancelled}, Revoked, 0,
			[]string{"ftgo.loyalty.v1.PointsEarned", "ftgo.loyalty.v1.PointsRevoked"}},
		{"cancelled and approved before created", []message{cancelled, approved, created}, Revoked, -1, nil},
		{"created last after approval and cancellation", []message{approved, cancelled, created}, Revoked, -1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openFresh(t, e)
			record(t, s, "o-1", c.msgs...)
			op, err := s.OrderPoints(context.Background(), "o-1")
			if err != nil || op.GetState() != c.state || op.GetPoints() != 20 || op.GetConsumerId() != "c-1" {
				t.Fatalf("order points %v, %v: want %v with 20 points", op, err, c.state)
			}
			a, err := s.Account(context.Background(), "c-1")
			switch {
			case c.balance < 0 && !errors.Is(err, ErrNotFound):
				t.Fatalf("want no account, got %v, %v", a, err)
			case c.balance >= 0 && (err != nil || a.GetPointsBalance() != c.balance):
				t.Fatalf("account %v, %v: want balance %d", a, err, c.balance)
			}
			if got := outboxTypes(t, s, "o-1"); fmt.Sprint(got) != fmt.Sprint(c.events) {
				t.Fatalf("outbox %v, want %v", got, c.events)
			}
		})
	}
}

func TestAnOrderNotCreatedYetIsNotFound(t *testing.T) {
	pgtest.ForEachEngine(t, func(t *testing.T, e pgtest.Engine) { anOrderNotCreatedYetIsNotFound(t, openFresh(t, e)) })
}

func anOrderNotCreatedYetIsNotFound(t *testing.T, s *Store) {
	record(t, s, "o-1", message{"a", Approved})
	if _, err := s.OrderPoints(context.Background(), "o-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound until OrderCreated is heard", err)
	}
	if _, err := s.OrderPoints(context.Background(), "o-never"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}
