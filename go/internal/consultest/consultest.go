// Package consultest starts a real Consul agent for Go tests: the v1.16.3 binary that `make consul`
// builds into ${XDG_CACHE_HOME:-$HOME/.cache}/ftgo-mesh/consul-v1.16.3/consul, in -dev mode on free
// loopback ports, killed and waited for in t.Cleanup. A missing binary fails the test, naming the fix.
package consultest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// Binary is where `make consul` puts the agent.
func Binary() (string, error) {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the cache directory: %w", err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "ftgo-mesh", "consul-v1.16.3", "consul"), nil
}

// Start runs a dev agent for the test and returns its HTTP API address (host:port) once it has a leader.
func Start(t *testing.T) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no Consul agent at %s: build it with `make consul` (%v)", bin, err)
	}
	ports := freePorts(t, 5)
	httpAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(bin, "agent", "-dev", "-client", "127.0.0.1", "-bind", "127.0.0.1",
		"-http-port", strconv.Itoa(ports[0]), "-grpc-port", strconv.Itoa(ports[1]), "-grpc-tls-port", "-1",
		"-dns-port", "-1", "-serf-lan-port", strconv.Itoa(ports[2]), "-serf-wan-port", strconv.Itoa(ports[3]),
		"-server-port", strconv.Itoa(ports[4]), "-log-level", "warn")
	logFile, err := os.Create(filepath.Join(t.TempDir(), "consul.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	t.Cleanup(func() { _ = logFile.Close() }) // runs after the agent is killed (cleanups run last-in first-out)
	exited := proctest.Start(t, cmd)
	deadline := time.Now().Add(60 * time.Second)
	for !hasLeader(httpAddr) {
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("consul exited before electing a leader:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("consul at %s had no leader within 60 s", httpAddr)
		}
		time.Sleep(100 * time.Millisecond) // polling for readiness, bounded by the deadline above
	}
	return httpAddr
}

// hasLeader reports whether the agent answers and its cluster has elected a leader.
func hasLeader(addr string) bool {
	client := http.Client{Timeout: 2 * time.Second}
	res, err := client.Get("http://" + addr + "/v1/status/leader")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var leader string
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&leader) == nil && leader != ""
}

// freePorts finds n distinct free TCP ports on loopback (held together, so they differ, then released).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// Entry is the part of an entry of the agent's /v1/health/service/<name> that tests read.
type Entry struct {
	Service struct {
		ID, Service, Address string
		Port                 int
		Tags                 []string
		Meta                 map[string]string
	}
	Checks []struct{ CheckID, ServiceID, Status string }
}

// Health lists the agent's entries for service: every one, or only those whose checks all pass.
func Health(t *testing.T, addr, service string, passingOnly bool) []Entry {
	t.Helper()
	url := fmt.Sprintf("http://%s/v1/health/service/%s", addr, service)
	if passingOnly {
		url += "?passing=true"
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("reading Consul's health API: %v", err)
	}
	defer res.Body.Close()
	var entries []Entry
	if err := json.NewDecoder(res.Body).Decode(&entries); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("Consul's health API answered %s: %v", res.Status, err)
	}
	return entries
}
