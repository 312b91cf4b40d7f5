package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"           // the "sqlite" driver: pure Go, no cgo
)

// IsPostgres reports whether a DATABASE_URL names a PostgreSQL database.
func IsPostgres(databaseURL string) bool {
	return strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://")
}

// Options say which database to open.
type Options struct {
	// URL is DATABASE_URL: a postgres:// or postgresql:// URL, or "" for SQLite at Path.
	URL string
	// Path is the SQLite file, used when URL is "".
	Path string
	// Schema is the service's own PostgreSQL schema: every connection's search_path, created by Migrate.
	Schema string
	// LockKey is the PostgreSQL advisory lock that serialises the service's writers (Dialect.writeLock).
	LockKey int64
}

// Open opens the database o names; it does not migrate it (Migrate).
func Open(ctx context.Context, o Options) (*DB, error) {
	switch {
	case IsPostgres(o.URL):
		return openPostgres(ctx, o)
	case o.URL == "":
		return openSQLite(o.Path)
	}
	return nil, fmt.Errorf("DATABASE_URL is neither postgres:// nor postgresql://")
}

func openSQLite(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises them anyway, this avoids SQLITE_BUSY between our own
	return &DB{DB: db, Dialect: SQLite}, nil
}

func openPostgres(ctx context.Context, o Options) (*DB, error) {
	// pgx's parse errors name the URL with its password redacted.
	cfg, err := pgx.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	// Set on every connection the pool opens, so that unqualified names are the service's tables.
	cfg.RuntimeParams["search_path"] = quoteIdent(o.Schema)
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return &DB{DB: db, Dialect: Postgres(o.Schema, o.LockKey)}, nil
}
