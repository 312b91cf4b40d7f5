// Package pgtest starts a real, throwaway PostgreSQL 15 server for Go tests: initdb into a temporary
// directory, postgres on a free loopback port, stopped and removed in t.Cleanup. Missing binaries fail the
// test: the PostgreSQL store is part of what the suite proves, not an optional extra.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// BinDir holds initdb and postgres (Debian's postgresql-15).
const BinDir = "/usr/lib/postgresql/15/bin"

// Server is a running PostgreSQL server with trust authentication for the superuser postgres.
type Server struct {
	port      int
	databases atomic.Int64
}

// Start runs a server for the test and returns it once it accepts connections.
func Start(t *testing.T) *Server {
	t.Helper()
	for _, bin := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(BinDir + "/" + bin); err != nil {
			t.Fatalf("PostgreSQL's %s not found in %s: install postgresql-15 (%v)", bin, BinDir, err)
		}
	}
	owner := serverUser(t)
	dir := dataDir(t, owner)
	initdb := exec.Command(BinDir+"/initdb", "-D", dir, "-A", "trust", "-U", "postgres", "-E", "UTF8")
	if out, err := runAs(initdb, dir, owner).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// PostgreSQL cannot pick its own port: a free one is chosen here, and another process may bind it first.
	// Then postgres exits unable to bind, and it starts again on another.
	for attempt := 1; ; attempt++ {
		s := &Server{port: proctest.FreePort(t)}
		postgres := exec.Command(BinDir+"/postgres", "-D", dir, "-p", strconv.Itoa(s.port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
		var out output
		postgres.Stdout, postgres.Stderr = &out, &out
		exited := proctest.StartWithStop(t, runAs(postgres, dir, owner), fastShutdown)
		if s.waitReady(t, dir, exited, &out) {
			return s
		}
		if attempt == 3 {
			t.Fatalf("postgres could not bind a free port in 3 attempts:\n%s", &out)
		}
	}
}

// URL is the connection URL of database `name` on the server.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// NewDatabase creates an empty database of its own for a test and returns its URL.
func (s *Server) NewDatabase(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", s.databases.Add(1))
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return s.URL(name)
}

// waitReady returns true once the server accepts connections, and false if it exited unable to bind its port.
// It fails the test if it exits otherwise or 30 s pass. A server answering at the port must be this one (its data
// directory dir): a connection to another test's server there is not this one being ready.
func (s *Server) waitReady(t *testing.T, dir string, exited <-chan struct{}, out *output) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		answering, err := dataDirectoryAt(ctx, s.URL("postgres"))
		cancel()
		if err == nil && answering == dir {
			return true
		}
		select {
		case <-exited:
			if strings.Contains(out.String(), "could not bind") {
				return false
			}
			t.Fatalf("postgres exited before accepting connections: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections within 30 s: %v (answering: %q)\n%s", err, answering, out)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness, bounded by the deadline above
	}
}

// dataDirectoryAt is the data directory of the server answering at url.
func dataDirectoryAt(ctx context.Context, url string) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var dir string
	err = conn.QueryRow(ctx, "SHOW data_directory").Scan(&dir)
	return dir, err
}
