package pgtest

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// fastShutdown is how t.Cleanup stops the server: SIGINT, which is postgres' fast shutdown (SIGTERM, its
// smart shutdown, would wait for every client to disconnect), then SIGKILL to its whole process group if it
// is still running after 10 s.
var fastShutdown = proctest.Stop{Signal: syscall.SIGINT, Within: 10 * time.Second}

// credential is the OS user the server runs as: postgres refuses to run as root, so under root (the test
// containers) it is the `postgres` user; otherwise whoever runs the test (nil: no switch).
type credential = *syscall.Credential

func serverUser(t *testing.T) credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root, postgres needs the OS user postgres to run as: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("the postgres user's ids %q/%q are not numbers", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// dataDir creates the cluster's directory, owned by the server's user, and removes it in t.Cleanup. It is
// not under t.TempDir: that directory's parent is root's, private, and the postgres user could not enter.
func dataDir(t *testing.T, owner credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // registered first, so it runs after the server stopped
	if owner != nil {
		if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
			t.Fatalf("handing %s to the postgres user: %v", dir, err)
		}
	}
	return dir
}

// runAs prepares cmd to run as owner in dir, in a process group of its own (so that stopping it reaches
// every backend it forked), with the C locale, which initdb accepts with UTF8 whatever the host has.
func runAs(cmd *exec.Cmd, dir string, owner credential) *exec.Cmd {
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: owner}
	return cmd
}

// output collects the server's log, for a failed start to show why: written by exec's copying goroutine,
// read by the test.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
