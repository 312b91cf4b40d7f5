// Package proctest runs a helper process (a nats-server, a Consul agent) for the length of a Go test:
// started now, killed and waited for in t.Cleanup, so that no test leaves one behind.
package proctest

import (
	"os/exec"
	"testing"
)

// Start starts cmd and returns a channel closed when it exits; t.Cleanup kills it and waits.
func Start(t *testing.T, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return exited
}
