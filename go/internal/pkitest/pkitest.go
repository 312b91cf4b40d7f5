// Package pkitest makes a real mesh PKI for Go tests by running scripts/pki.sh (openssl) into a temporary
// directory: the CA and every mesh identity (`init`), and learners' certificates (`cert NAME`).
package pkitest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Dir is a directory of PEM files made by scripts/pki.sh: ca.crt, ca.key, <name>.crt, <name>.key.
type Dir string

// CA is the CA certificate's path.
func (d Dir) CA() string { return filepath.Join(string(d), "ca.crt") }

// Cert is the certificate of identity name.
func (d Dir) Cert(name string) string { return filepath.Join(string(d), name+".crt") }

// Key is the private key of identity name.
func (d Dir) Key(name string) string { return filepath.Join(string(d), name+".key") }

// Env is the secure mode's environment of a process that is name: FTGO_TLS_CA, FTGO_TLS_CERT, FTGO_TLS_KEY.
func (d Dir) Env(name string) map[string]string {
	return map[string]string{"FTGO_TLS_CA": d.CA(), "FTGO_TLS_CERT": d.Cert(name), "FTGO_TLS_KEY": d.Key(name)}
}

// Init runs `scripts/pki.sh init` into a new temporary directory, then `scripts/pki.sh cert` for each learner.
func Init(t testing.TB, learners ...string) Dir {
	t.Helper()
	dir := Dir(t.TempDir())
	run(t, dir, "init")
	for _, name := range learners {
		run(t, dir, "cert", name)
	}
	return dir
}

// Learner runs only `scripts/pki.sh cert name` into a new temporary directory: a CA of its own (not the
// mesh's) and one learner certificate signed by it.
func Learner(t testing.TB, name string) Dir {
	t.Helper()
	dir := Dir(t.TempDir())
	run(t, dir, "cert", name)
	return dir
}

func run(t testing.TB, dir Dir, args ...string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{Script(t)}, args...)...)
	cmd.Env = append(os.Environ(), "FTGO_PKI_DIR="+string(dir))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/pki.sh %v: %v\n%s", args, err, out)
	}
}

// Script is scripts/pki.sh, found walking up from the working directory (a package's directory under go/).
func Script(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "scripts", "pki.sh")
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("scripts/pki.sh not found above the working directory")
		}
		dir = parent
	}
}
