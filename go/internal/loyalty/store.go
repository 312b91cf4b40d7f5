package loyalty

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/sqldb"
)

// ErrNotFound is returned for an order or account Loyalty does not know.
var ErrNotFound = errors.New("not found")

// Store is Loyalty's own database: order points, accounts, processed messages and the outbox.
type Store struct {
	db         *sqldb.DB
	partitions int
}

// Open opens (creating and migrating if needed) the store: PostgreSQL's schema `loyalty` when databaseURL
// is a postgres:// URL, else SQLite at sqlitePath. `partitions` places the outbox's events.
func Open(ctx context.Context, databaseURL, sqlitePath string, partitions int) (*Store, error) {
	db, err := sqldb.Open(ctx, sqldb.Options{URL: databaseURL, Path: sqlitePath, Schema: Schema, LockKey: WriteLockKey})
	if err != nil {
		return nil, err
	}
	if err := sqldb.Migrate(ctx, db, migrations); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Store{db: db, partitions: partitions}, nil
}

// DB is the database, for the outbox relay.
func (s *Store) DB() *sql.DB { return s.db.DB }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Fact is one thing heard about an order: merge it into what is known.
type Fact func(*Facts)

// Created records OrderCreated's consumer and points.
func Created(consumerID string, points int64) Fact {
	return func(f *Facts) { f.Created, f.ConsumerID, f.Points = true, consumerID, points }
}

// Approved, Rejected and Cancelled record the saga's outcomes.
var (
	Approved  Fact = func(f *Facts) { f.Approved = true }
	Rejected  Fact = func(f *Facts) { f.Rejected = true }
	Cancelled Fact = func(f *Facts) { f.Cancelled = true }
)

// Record applies one message's fact about `orderID` once: in one transaction it records the message id
// (a duplicate changes nothing and returns false), settles the order's state, moves the consumer's
// balance and appends PointsEarned or PointsRevoked to the outbox. Nothing of it exists unless all of it
// commits.
func (s *Store) Record(ctx context.Context, env messaging.Envelope, orderID string, fact Fact) (bool, error) {
	tx, err := s.db.BeginWrite(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	first, err := messaging.MarkProcessed(tx, env)
	if err != nil || !first {
		return false, errors.Join(err, tx.Commit())
	}
	facts, state, err := loadFacts(ctx, tx, orderID)
	if err != nil {
		return false, err
	}
	fact(&facts)
	next := state
	if facts.Created {
		next = Settle(facts)
		if err := s.applyChange(ctx, tx, env, orderID, facts, ChangeFor(state, next, facts.Points)); err != nil {
			return false, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO order_points
		(order_id, consumer_id, points, state, created, approved, rejected, cancelled, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (order_id) DO UPDATE SET consumer_id = excluded.consumer_id, points = excluded.points,
			state = excluded.state, created = excluded.created, approved = excluded.approved,
			rejected = excluded.rejected, cancelled = excluded.cancelled, updated_at = excluded.updated_at`,
		orderID, facts.ConsumerID, facts.Points, int32(next), flag(facts.Created), flag(facts.Approved),
		flag(facts.Rejected), flag(facts.Cancelled), time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("saving order %s: %w", orderID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("committing: %w", err)
	}
	return true, nil
}

func loadFacts(ctx context.Context, tx *sql.Tx, orderID string) (Facts, State, error) {
	var f Facts
	state := Pending
	err := tx.QueryRowContext(ctx, `SELECT consumer_id, points, state, created, approved, rejected, cancelled
		FROM order_points WHERE order_id = $1`, orderID).
		Scan(&f.ConsumerID, &f.Points, &state, &f.Created, &f.Approved, &f.Rejected, &f.Cancelled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Facts{}, 0, fmt.Errorf("reading order %s: %w", orderID, err)
	}
	return f, state, nil
}

// applyChange moves the consumer's balance and announces it through the outbox.
func (s *Store) applyChange(ctx context.Context, tx *sql.Tx, env messaging.Envelope, orderID string, f Facts, c Change) error {
	if c.Event == "" {
		return nil
	}
	var balance int64
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (consumer_id, points_balance, orders_rewarded) VALUES ($1, $2, $3)
		ON CONFLICT (consumer_id) DO UPDATE SET points_balance = accounts.points_balance + excluded.points_balance,
			orders_rewarded = accounts.orders_rewarded + excluded.orders_rewarded
		RETURNING points_balance`, f.ConsumerID, c.Delta, c.Orders).Scan(&balance)
	if err != nil {
		return fmt.Errorf("updating %s's balance: %w", f.ConsumerID, err)
	}
	var event proto.Message
	if c.Event == "earned" {
		event = &loyaltyv1.PointsEarned{OrderId: orderID, ConsumerId: f.ConsumerID, Points: f.Points, PointsBalance: balance}
	} else {
		event = &loyaltyv1.PointsRevoked{OrderId: orderID, ConsumerId: f.ConsumerID, Points: f.Points, PointsBalance: balance}
	}
	payload, err := proto.Marshal(event)
	if err != nil {
		return fmt.Errorf("encoding %T: %w", event, err)
	}
	caused := messaging.Caused{CorrelationID: orderID, CausationID: env.MessageID, RequestID: env.RequestID, TraceParent: env.TraceParent}
	_, err = messaging.AppendEvent(tx, string(proto.MessageName(event)), payload, caused, s.partitions)
	return err
}

// OrderPoints returns what an order earned; ErrNotFound until its OrderCreated has been handled.
func (s *Store) OrderPoints(ctx context.Context, orderID string) (*loyaltyv1.OrderPoints, error) {
	op := &loyaltyv1.OrderPoints{OrderId: orderID}
	err := s.db.QueryRowContext(ctx, `SELECT consumer_id, points, state FROM order_points WHERE order_id = $1 AND created = 1`, orderID).
		Scan(&op.ConsumerId, &op.Points, &op.State)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading order %s: %w", orderID, err)
	}
	return op, nil
}

// Account returns a consumer's account; ErrNotFound when none of their orders was ever credited.
func (s *Store) Account(ctx context.Context, consumerID string) (*loyaltyv1.Account, error) {
	a := &loyaltyv1.Account{ConsumerId: consumerID}
	err := s.db.QueryRowContext(ctx, `SELECT points_balance, orders_rewarded FROM accounts WHERE consumer_id = $1`, consumerID).
		Scan(&a.PointsBalance, &a.OrdersRewarded)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading account %s: %w", consumerID, err)
	}
	return a, nil
}
