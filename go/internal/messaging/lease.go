package messaging

import (
	"database/sql"
	"fmt"
	"time"
)

// LeaseDuration is how long a relay that stopped renewing its lease is presumed alive. After it, another
// instance's relay takes the outbox over.
const LeaseDuration = 5 * time.Second

// Lease elects one outbox relay among the instances that share a database file, as lease.ts does for the
// TypeScript services: several relays would race to publish every row. The row names the holder and until
// when it holds. Taking or renewing is one atomic statement, so two holders cannot both win. A holder that
// stalls past its lease may still finish a publish its successor also makes: both publish with the row's
// Nats-Msg-Id, and JetStream keeps the first.
type Lease struct {
	db     *sql.DB
	holder string
}

// NewLease creates the lease table if needed (the same outbox_lease the TypeScript relay uses) for holder.
func NewLease(db *sql.DB, holder string) (*Lease, error) {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS outbox_lease (
		id         INTEGER PRIMARY KEY CHECK (id = 1),
		holder     TEXT NOT NULL,
		expires_at INTEGER NOT NULL
	)`)
	if err != nil {
		return nil, fmt.Errorf("creating the outbox lease table: %w", err)
	}
	return &Lease{db: db, holder: holder}, nil
}

// Renew takes the lease if it is free or expired, or extends it if this holder has it: true when it does.
func (l *Lease) Renew() (bool, error) {
	now := time.Now()
	result, err := l.db.Exec(`INSERT INTO outbox_lease (id, holder, expires_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE outbox_lease.holder = excluded.holder OR outbox_lease.expires_at <= ?`,
		l.holder, now.Add(LeaseDuration).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("renewing the outbox lease: %w", err)
	}
	changed, err := result.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renewing the outbox lease: %w", err)
	}
	return changed == 1, nil
}

// Release gives the lease up, so that another instance need not wait for it to expire.
func (l *Lease) Release() error {
	if _, err := l.db.Exec(`DELETE FROM outbox_lease WHERE holder = ?`, l.holder); err != nil {
		return fmt.Errorf("releasing the outbox lease: %w", err)
	}
	return nil
}
