package sqldb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/sqldb"
)

// A later version is applied on top of the earlier ones; a version that fails leaves nothing of itself,
// its version unrecorded, so that the next start tries it again.
func TestMigrationsApplyInOrderAndAFailedOneLeavesNothing(t *testing.T) {
	pgtest.ForEachEngine(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		databaseURL, sqlitePath := e.Fresh(t)
		db, err := sqldb.Open(ctx, sqldb.Options{URL: databaseURL, Path: sqlitePath, Schema: "migrate_test", LockKey: 7})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		v1 := sqldb.Migration{Version: 1, Statements: []string{`CREATE TABLE a (id {{serial}}, body {{bytes}})`}}
		v2 := sqldb.Migration{Version: 2, Statements: []string{`CREATE TABLE b (id TEXT PRIMARY KEY)`}}
		broken := sqldb.Migration{Version: 3, Statements: []string{`CREATE TABLE c (id TEXT)`, `NOT SQL`}}
		if err := sqldb.Migrate(ctx, db, []sqldb.Migration{v1}); err != nil {
			t.Fatal(err)
		}
		if err := sqldb.Migrate(ctx, db, []sqldb.Migration{broken, v2, v1}); err == nil {
			t.Fatal("a broken migration succeeded")
		}
		if got := versions(t, db); got != "[1]" {
			t.Fatalf("versions %s after a failed migration, want [1]", got)
		}
		if _, err := db.Exec(`SELECT * FROM c`); err == nil {
			t.Fatal("the failed migration's table c exists")
		}
		if err := sqldb.Migrate(ctx, db, []sqldb.Migration{v2, v1}); err != nil {
			t.Fatal(err)
		}
		if got := versions(t, db); got != "[1 2]" {
			t.Fatalf("versions %s, want [1 2]", got)
		}
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		var id int64
		if err := tx.QueryRow(`INSERT INTO a (body) VALUES ($1) RETURNING id`, []byte{0, 1}).Scan(&id); err != nil || id != 1 {
			t.Fatalf("the serial key numbered the first row %d (%v), want 1", id, err)
		}
	})
}

func versions(t *testing.T, db *sqldb.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return fmt.Sprint(vs)
}
