package sqldb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Migration is one version of a service's schema: statements (DDL templates, see Dialect.DDL) run once,
// in order, in the transaction that records the version in schema_version.
type Migration struct {
	Version    int64
	Statements []string
}

// Migrate brings the database to the last of `migrations`, applying in one transaction those newer than
// schema_version's highest. It holds the write lock throughout, so a concurrent Migrate (another instance
// starting) waits and then finds them applied. A database created before schema_version existed gets
// version 1 recorded: its statements are CREATE … IF NOT EXISTS, so they change nothing there.
func Migrate(ctx context.Context, db *DB, migrations []Migration) (err error) {
	migrations = slices.SortedFunc(slices.Values(migrations), func(a, b Migration) int { return int(a.Version - b.Version) })
	// One connection, so that the transaction is begun as the dialect needs (BEGIN IMMEDIATE on SQLite).
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer func() { _ = conn.Close() }()
	for _, stmt := range db.Dialect.beginMigration {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			return fmt.Errorf("migrating: %s: %w", stmt, err)
		}
	}
	committed := false
	defer func() {
		if !committed {
			if _, rerr := conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rolling the migration back: %w", rerr))
			}
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("creating schema_version: %w", err)
	}
	var current int64
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("reading schema_version: %w", err)
	}
	for _, m := range migrations {
		if m.Version <= current {
			continue
		}
		for _, stmt := range m.Statements {
			if _, err := conn.ExecContext(ctx, db.Dialect.DDL(stmt)); err != nil {
				return fmt.Errorf("migration %d: %w", m.Version, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)`,
			m.Version, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("recording migration %d: %w", m.Version, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("committing the migration: %w", err)
	}
	committed = true
	return nil
}
