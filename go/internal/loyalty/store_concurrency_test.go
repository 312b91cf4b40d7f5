package loyalty

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
)

// Two instances on one PostgreSQL database hear an order's OrderCreated and OrderApproved at the same
// moment (a redelivery race): each Record reads the order's facts and writes them back, so without the
// write lock one would overwrite the other's and the points be lost. SQLite serialises writers itself.
func TestConcurrentInstancesOnPostgresLoseNoFact(t *testing.T) {
	server := pgtest.Start(t)
	databaseURL := server.NewDatabase(t)
	a, b := openOn(t, databaseURL, ""), openOn(t, databaseURL, "")
	const orders = 40
	errs := make(chan error, 2*orders)
	var wg sync.WaitGroup
	for i := range orders {
		orderID := fmt.Sprintf("o-%d", i)
		recordOn := func(s *Store, id string, fact Fact) {
			env := messaging.Envelope{MessageID: id, Type: "ftgo.order.v1.Test", CorrelationID: orderID}
			_, err := s.Record(context.Background(), env, orderID, fact)
			errs <- err
		}
		wg.Go(func() { recordOn(a, orderID+"-created", Created("c-1", 5)) })
		wg.Go(func() { recordOn(b, orderID+"-approved", Approved) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range orders {
		op, err := a.OrderPoints(context.Background(), fmt.Sprintf("o-%d", i))
		if err != nil || op.GetState() != Earned {
			t.Fatalf("order o-%d: %v, %v; want Earned", i, op, err)
		}
	}
	acct, err := a.Account(context.Background(), "c-1")
	if err != nil || acct.GetPointsBalance() != 5*orders || acct.GetOrdersRewarded() != orders {
		t.Fatalf("account %v, %v; want %d points from %d orders", acct, err, 5*orders, orders)
	}
	var events int
	if err := a.DB().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != orders {
		t.Fatalf("%d outbox events; want one PointsEarned for each of the %d orders", events, orders)
	}
}
