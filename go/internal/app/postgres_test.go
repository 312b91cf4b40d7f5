package app

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pgtest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// With DATABASE_URL set, the service keeps its tables in PostgreSQL's schema loyalty and nothing in DATA_DIR.
func TestServesFromPostgresUnderDatabaseURL(t *testing.T) {
	databaseURL := pgtest.Start(t).NewDatabase(t)
	port, dataDir := proctest.FreePort(t), t.TempDir()
	env := map[string]string{
		"PORT": strconv.Itoa(port), "DATA_DIR": dataDir, "NATS_URL": natstest.Start(t),
		"DATABASE_URL": databaseURL, "DISCOVERY": "server", // registers nowhere: only the store is under test
	}
	r := startRun(t, env)

	r.waitServing(t, port)
	r.shutDown(t)

	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions int
	if err := db.QueryRow(`SELECT COUNT(*) FROM loyalty.schema_version`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("loyalty.schema_version has %d rows (%v), want 1", versions, err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "loyalty.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite store was created in DATA_DIR under DATABASE_URL: %v", err)
	}
}
