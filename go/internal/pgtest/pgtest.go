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
	s := &Server{port: proctest.FreePort(t)}
	postgres := exec.Command(BinDir+"/postgres", "-D", dir, "-p", strconv.Itoa(s.port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	var out output
	postgres.Stdout, postgres.Stderr = &out, &out
	exited := proctest.StartWithStop(t, runAs(postgres, dir, owner), fastShutdown)
	s.waitReady(t, exited, &out)
	return s
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

// waitReady returns once the server accepts connections, failing the test if it exits first or 30 s pass.
func (s *Server) waitReady(t *testing.T, exited <-chan struct{}, out *output) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return
		}
		select {
		case <-exited:
			t.Fatalf("postgres exited before accepting connections: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections within 30 s: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness, bounded by the deadline above
	}
}
