package loyalty

import (
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/sqldb"
)

// Schema is Loyalty's PostgreSQL schema, its tables' home in a database shared with other services.
const Schema = "loyalty"

// WriteLockKey is the PostgreSQL advisory lock taken by every Loyalty write transaction: "loyalty" in
// ASCII, fixed so that every instance (and an operator reading pg_locks) agrees on it.
const WriteLockKey int64 = 0x6c6f79616c7479

// The order's facts are 0/1 INTEGERs rather than BOOLEAN, as SQLite has no booleans and earlier SQLite
// stores have them so; timestamps are ms since the epoch, and points may outgrow 32 bits: BIGINT.
var loyaltyTables = []string{
	`CREATE TABLE IF NOT EXISTS order_points (
		order_id    TEXT PRIMARY KEY,
		consumer_id TEXT NOT NULL DEFAULT '',
		points      BIGINT NOT NULL DEFAULT 0,
		state       INTEGER NOT NULL,
		created     INTEGER NOT NULL DEFAULT 0,
		approved    INTEGER NOT NULL DEFAULT 0,
		rejected    INTEGER NOT NULL DEFAULT 0,
		cancelled   INTEGER NOT NULL DEFAULT 0,
		updated_at  BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS accounts (
		consumer_id     TEXT PRIMARY KEY,
		points_balance  BIGINT NOT NULL,
		orders_rewarded BIGINT NOT NULL
	)`,
}

// migrations are Loyalty's schema versions, on either engine. Version 1 is every table as SQLite stores
// created before versioning have them (CREATE … IF NOT EXISTS: nothing changes there but the version).
// Append a version for any change; never edit one that shipped.
var migrations = []sqldb.Migration{
	{Version: 1, Statements: append(append([]string{}, loyaltyTables...), messaging.Tables...)},
}

// flag is a fact as the 0/1 INTEGER both engines store it as: PostgreSQL does not take a Go bool for one.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
