// Package proctest runs a helper process (a nats-server, a Consul agent, a PostgreSQL server) for the length
// of a Go test: started now, stopped and waited for in t.Cleanup, so that no test leaves one behind.
package proctest

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Stop is how t.Cleanup ends a process: Signal first, then SIGKILL if it has not exited within Within. Some
// servers want a signal of their own to shut down promptly (postgres: SIGINT, its fast shutdown). The zero
// Stop kills at once.
type Stop struct {
	Signal syscall.Signal
	Within time.Duration
}

// Start starts cmd and returns a channel closed when it exits; t.Cleanup kills it and waits.
func Start(t *testing.T, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	return StartWithStop(t, cmd, Stop{})
}

// StartWithStop is Start ending the process as stop says. A cmd started in a process group of its own
// (SysProcAttr.Setpgid) has its whole group killed at the end, even after a clean exit: a child outliving
// its parent (a postgres backend) would be a process left behind.
func StartWithStop(t *testing.T, cmd *exec.Cmd, stop Stop) <-chan struct{} {
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
		if stop.Signal != 0 {
			_ = cmd.Process.Signal(stop.Signal)
			select {
			case <-exited:
			case <-time.After(stop.Within):
				t.Logf("%s did not stop within %v; killing it", filepath.Base(cmd.Path), stop.Within)
			}
		}
		if attr := cmd.SysProcAttr; attr != nil && attr.Setpgid && attr.Pgid == 0 {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group's id is the leader's pid
		} else {
			_ = cmd.Process.Kill()
		}
		<-exited
	})
	return exited
}
