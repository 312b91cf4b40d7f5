package pgtest

import (
	"path/filepath"
	"testing"
)

// Engine is a database engine a test runs against.
type Engine struct {
	Name string
	// Fresh returns a new, empty database of the engine as a service opens it: its DATABASE_URL ("" for
	// SQLite) and its SQLite file ("" for PostgreSQL).
	Fresh func(t *testing.T) (databaseURL, sqlitePath string)
}

// ForEachEngine runs test as subtest "sqlite", then as "postgres" against a server of its own, started in
// that subtest and stopped at its end.
func ForEachEngine(t *testing.T, test func(t *testing.T, e Engine)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		test(t, Engine{Name: "sqlite", Fresh: func(t *testing.T) (string, string) {
			return "", filepath.Join(t.TempDir(), "store.db")
		}})
	})
	t.Run("postgres", func(t *testing.T) {
		server := Start(t)
		test(t, Engine{Name: "postgres", Fresh: func(t *testing.T) (string, string) {
			return server.NewDatabase(t), ""
		}})
	})
}
