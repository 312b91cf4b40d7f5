package messaging

import (
	"database/sql"
	"fmt"
	"time"
)

// LeaseDuration is how long a relay that stopped renewing its lease is presumed alive. After it, another
// instance's relay takes the outbox over.
const LeaseDuration = 5 * time.Second

// Lease elects one outbox relay among the instances that share a database (a SQLite file or a PostgreSQL
// schema), as lease.ts does for the TypeScript services: several relays would race to publish every row.
// The row names the holder and until when it holds. Taking or renewing is one atomic statement, so two
// holders cannot both win (on PostgreSQL too: INSERT … ON CONFLICT DO UPDATE locks the row and evaluates
// its WHERE on its latest version). A holder that stalls past its lease may still finish a publish its
// successor also makes: both publish with the row's Nats-Msg-Id, and JetStream keeps the first.
type Lease struct {
	db     *sql.DB
	holder string
}

// LeaseTable is the lease's one row (a sqldb DDL template), the same outbox_lease the TypeScript relay uses.
// It is created with the service's schema (Tables), not by the relay: on PostgreSQL two instances running
// CREATE TABLE IF NOT EXISTS at once can collide, and migrations are serialised.
const LeaseTable = `CREATE TABLE IF NOT EXISTS outbox_lease (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	holder     TEXT NOT NULL,
	expires_at BIGINT NOT NULL
)`

// NewLease is holder's lease on the outbox of db, whose schema has LeaseTable.
func NewLease(db *sql.DB, holder string) *Lease {
	return &Lease{db: db, holder: holder}
}

// Renew takes the lease if it is free or expired, or extends it if this holder has it: true when it does.
func (l *Lease) Renew() (bool, error) {
	now := time.Now()
	result, err := l.db.Exec(`INSERT INTO outbox_lease (id, holder, expires_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE outbox_lease.holder = excluded.holder OR outbox_lease.expires_at <= $3`,
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
	if _, err := l.db.Exec(`DELETE FROM outbox_lease WHERE holder = $1`, l.holder); err != nil {
		return fmt.Errorf("releasing the outbox lease: %w", err)
	}
	return nil
}
