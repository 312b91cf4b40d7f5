// Package natstest starts a real nats-server with JetStream for Go tests: found on PATH or at
// /usr/sbin/nats-server, on a free port with a temporary store, killed and waited for in t.Cleanup.
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// Start runs a nats-server for the test and returns its URL once it accepts connections.
func Start(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, statErr := os.Stat(bin); statErr != nil {
			t.Fatalf("nats-server not found on PATH nor at %s: install it (apt-get install nats-server)", bin)
		}
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", t.TempDir())
	exited := proctest.Start(t, cmd)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		select {
		case <-exited:
			t.Fatalf("nats-server exited before accepting connections")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not accept connections within 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness, bounded by the deadline above
	}
}

// Connect starts a server and returns a connection to it, closed in t.Cleanup.
func Connect(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(Start(t))
	if err != nil {
		t.Fatalf("connecting to nats-server: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Eventually polls cond every 20 ms until it holds or `within` passes, then fails with `what`.
func Eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
