package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pkitest"
)

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// The learner's mode is as before: no FTGO_TLS_*, no certificates, no access table looked for (even a
// FTGO_ACCESS_FILE that points nowhere is no problem).
func TestLearnersModeLooksForNothing(t *testing.T) {
	cfg, err := Load(lookupOf(map[string]string{"FTGO_ACCESS_FILE": "/nowhere/access.json"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secure() || cfg.TLS != nil || cfg.Access != nil {
		t.Fatalf("learner's mode turned secure: %+v", cfg)
	}
}

func TestSecureModeLoadsTheIdentityAndTheAccessTable(t *testing.T) {
	pki := pkitest.Init(t)
	cfg, err := Load(lookupOf(pki.Env("loyalty"))) // the table found walking up from go/internal/config
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Secure() || cfg.Access == nil || !strings.HasSuffix(cfg.Access.File, filepath.Join("proto", "access.json")) {
		t.Fatalf("secure mode not loaded: %+v", cfg)
	}
}

// A start-up in the secure mode without the access table stops with an error that says what is missing and
// how to point at it.
func TestSecureModeWithoutAnAccessTableDoesNotStart(t *testing.T) {
	pki := pkitest.Init(t)
	env := pki.Env("loyalty")
	missing := filepath.Join(t.TempDir(), "access.json")
	env["FTGO_ACCESS_FILE"] = missing
	_, err := Load(lookupOf(env))
	if !IsConfigError(err) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "FTGO_ACCESS_FILE") {
		t.Fatalf("FTGO_ACCESS_FILE pointing nowhere: %v", err)
	}

	t.Chdir(t.TempDir()) // no proto/access.json above it
	_, err = Load(lookupOf(pki.Env("loyalty")))
	if !IsConfigError(err) || !strings.Contains(err.Error(), filepath.Join("proto", "access.json")) || !strings.Contains(err.Error(), "FTGO_ACCESS_FILE") {
		t.Fatalf("no table above the working directory: %v", err)
	}
}

func TestPartOfTheIdentityIsAConfigurationError(t *testing.T) {
	pki := pkitest.Init(t)
	env := pki.Env("loyalty")
	delete(env, "FTGO_TLS_CA")
	_, err := Load(lookupOf(env))
	if !IsConfigError(err) || !strings.Contains(err.Error(), "FTGO_TLS_CA, FTGO_TLS_CERT, FTGO_TLS_KEY") {
		t.Fatalf("two of three: %v", err)
	}
}
