package proctest

import (
	"net"
	"testing"
)

// FreePort finds a free TCP port on loopback for a helper process to listen on. It is released before it is
// returned, so another process could take it first: pgtest then starts postgres again on another, and natstest
// lets nats-server pick its own port instead.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
