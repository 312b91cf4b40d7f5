// Package natstest starts a real nats-server with JetStream for Go tests: found on PATH or at
// /usr/sbin/nats-server, on a free port with a temporary store, killed and waited for in t.Cleanup.
package natstest

import (
	"encoding/json"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// Start runs a nats-server for the test and returns its URL once it accepts connections.
func Start(t *testing.T) string {
	t.Helper()
	portsDir := t.TempDir()
	s := launch(t, portsDir, append(listenArgs("-1", portsDir), "-js", "-sd", t.TempDir())...)
	url := fmt.Sprintf("nats://127.0.0.1:%d", s.port)
	waitReady(t, s.exited, url)
	return url
}

// WithoutJetStream is a nats-server that has no JetStream yet: every JetStream request meets no responders,
// as on a server whose JetStream is still starting. EnableJetStream gives it one.
type WithoutJetStream struct {
	URL string
	server
}

// StartWithoutJetStream runs a nats-server without JetStream and returns it once it accepts connections.
func StartWithoutJetStream(t *testing.T) *WithoutJetStream {
	t.Helper()
	portsDir := t.TempDir()
	s := launch(t, portsDir, listenArgs("-1", portsDir)...)
	url := fmt.Sprintf("nats://127.0.0.1:%d", s.port)
	waitReady(t, s.exited, url)
	return &WithoutJetStream{URL: url, server: s}
}

// EnableJetStream stops the server and starts it again on the same port with JetStream, where a client's
// connection reconnects. It returns once the new server has bound the port (its ports file says so: another
// process that took the port meanwhile would make it exit instead) and accepts connections.
func (w *WithoutJetStream) EnableJetStream(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Kill()
	<-w.exited
	portsDir := t.TempDir()
	s := launch(t, portsDir, append(listenArgs(strconv.Itoa(w.port), portsDir), "-js", "-sd", t.TempDir())...)
	if s.port != w.port {
		t.Fatalf("the server came back on port %d, not %d", s.port, w.port)
	}
	waitReady(t, s.exited, w.URL)
	w.server = s
}

// StartTLS runs a nats-server with JetStream that speaks TLS only, with the server certificate certFile/keyFile,
// and requires every client to present a certificate of the CA caFile (verify: true), as the secure mode's
// broker does. It returns its tls:// URL once a client with the options `client` (its own certificate)
// connects.
func StartTLS(t *testing.T, caFile, certFile, keyFile string, client ...nats.Option) string {
	t.Helper()
	url, _ := startTLS(t, caFile, certFile, keyFile, "verify: true", "", client...)
	return url
}

// StartTLSMapped is StartTLS with verify_and_map: a client certificate is mapped to the NATS user of its
// e-mail name (<name>@ftgo.mesh, scripts/pki.sh), whose permissions `authorization` (an authorization { users
// = [...] } block of nats-server's configuration) gives. It returns the URL and the server's log file, where
// nats-server writes every permissions violation.
func StartTLSMapped(t *testing.T, caFile, certFile, keyFile, authorization string, client ...nats.Option) (url, logFile string) {
	t.Helper()
	return startTLS(t, caFile, certFile, keyFile, "verify_and_map: true", authorization, client...)
}

func startTLS(t *testing.T, caFile, certFile, keyFile, verify, extra string, client ...nats.Option) (string, string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	logFile := filepath.Join(dir, "nats.log")
	body := fmt.Sprintf(`listen: "127.0.0.1:-1"
ports_file_dir: %q
log_file: %q
jetstream { store_dir: %q }
tls { ca_file: %q, cert_file: %q, key_file: %q, %s, timeout: 5 }
%s
`, dir, logFile, filepath.Join(dir, "js"), caFile, certFile, keyFile, verify, extra)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := launch(t, dir, "-c", conf)
	url := fmt.Sprintf("tls://127.0.0.1:%d", s.port)
	waitReady(t, s.exited, url, client...)
	return url, logFile
}

func serverBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, statErr := os.Stat(bin); statErr != nil {
			t.Fatalf("nats-server not found on PATH nor at %s: install it (apt-get install nats-server)", bin)
		}
	}
	return bin
}

// server is a nats-server started for a test, and the client port it bound.
type server struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
	port   int
}

// listenArgs has the server listen on loopback at port ("-1": one it picks) and write its ports file into
// portsDir.
func listenArgs(port, portsDir string) []string {
	return []string{"-a", "127.0.0.1", "-p", port, "--ports_file_dir", portsDir}
}

// launch starts nats-server with args and returns it once it has written its ports file into portsDir.
func launch(t *testing.T, portsDir string, args ...string) server {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	exited := proctest.Start(t, cmd)
	return server{cmd: cmd, exited: exited, port: boundPort(t, cmd, portsDir, exited)}
}

// boundPort returns the client port the server bound, from the ports file it writes into dir once it listens
// (its own pid in the name): a port the server picked itself, so no other process can hold it, and a client
// connecting there meets this server, never another test's.
func boundPort(t *testing.T, cmd *exec.Cmd, dir string, exited <-chan struct{}) int {
	t.Helper()
	file := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	port := 0
	untilUp(t, exited, "write its ports file "+file, func() error {
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var ports struct {
			Nats []string `json:"nats"`
		}
		if err := json.Unmarshal(body, &ports); err != nil || len(ports.Nats) == 0 {
			return fmt.Errorf("not written yet: %q", body)
		}
		u, err := neturl.Parse(ports.Nats[0])
		if err == nil {
			port, err = strconv.Atoi(u.Port())
		}
		if err != nil {
			t.Fatalf("nats-server's ports file %s: %v", file, err)
		}
		return nil
	})
	return port
}

// waitReady returns once a client connects to url.
func waitReady(t *testing.T, exited <-chan struct{}, url string, opts ...nats.Option) {
	t.Helper()
	untilUp(t, exited, "accept connections", func() error {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			nc.Close()
		}
		return err
	})
}

// untilUp calls try every 20 ms until it returns nil, failing the test if the server exits first or 30 s pass.
func untilUp(t *testing.T, exited <-chan struct{}, what string, try func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := try()
		if err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("nats-server exited before it would %s", what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not %s within 30 s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond) // polling, bounded by the deadline above
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
