package mesh

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pkitest"
)

func noEnv(string) (string, bool) { return "", false }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// The repository's own table, found as the services find it: walking up from the working directory.
func TestTheRepositorysAccessTable(t *testing.T) {
	wd, _ := os.Getwd()
	access, err := LoadAccess(noEnv, wd)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(access.File, filepath.Join("proto", "access.json")) {
		t.Fatalf("found %s", access.File)
	}
	gateway := Caller{Peer: Peer{Name: "gateway", Role: "gateway"}}
	admin := func(role string) Caller {
		return Caller{Peer: gateway.Peer, EndUser: &EndUser{Role: role, Subject: "x"}}
	}
	cases := []struct {
		method string
		caller Caller
		want   bool
	}{
		{"/ftgo.loyalty.v1.LoyaltyService/GetAccount", gateway, true},
		{"/ftgo.loyalty.v1.LoyaltyService/GetAccount", Caller{Peer: Peer{"admin", "admin"}}, true},
		{"/ftgo.loyalty.v1.LoyaltyService/GetAccount", Caller{Peer: Peer{"ada", "learner"}}, false},
		{"/ftgo.loyalty.v1.LoyaltyService/GetOrderPoints", Caller{Peer: Peer{"order", "service"}}, false},
		// a method's own entry wins over its service's; "order" is a name (CN), not a role
		{"/ftgo.kitchen.v1.KitchenService/GetMenu", Caller{Peer: Peer{"order", "service"}}, true},
		{"/ftgo.kitchen.v1.KitchenService/AcceptTicket", Caller{Peer: Peer{"order", "service"}}, false},
		{"/ftgo.kitchen.v1.KitchenService/GetMenu", Caller{Peer: Peer{"consumer", "service"}}, false},
		// "*": any certificate of the CA that names someone
		{"/grpc.health.v1.Health/Check", Caller{Peer: Peer{"ada", "learner"}}, true},
		{"/grpc.health.v1.Health/Check", Caller{}, false},
		// a name admits a mesh identity, never a learner who happens to bear it
		{"/ftgo.kitchen.v1.KitchenService/GetMenu", Caller{Peer: Peer{"order", "learner"}}, true}, // as a learner
		{"/ftgo.kitchen.v1.KitchenService/GetTicket", Caller{Peer: Peer{"order", "learner"}}, false},
		{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", Caller{Peer: Peer{"courier-1", "courier"}}, true},
		// no entry: denied
		{"/ftgo.unknown.v1.Nothing/Call", Caller{Peer: Peer{"admin", "admin"}}, false},
		{"/ftgo.loyalty.v1.LoyaltyService/GetAccount", Caller{}, false},
		// "gateway as admin": only with an admin's verified claim
		{"/ftgo.admin.v1.AdminService/Pause", admin("admin"), true},
		{"/ftgo.admin.v1.AdminService/Pause", admin("consumer"), false},
		{"/ftgo.admin.v1.AdminService/Pause", gateway, false},
		{"/ftgo.admin.v1.AdminService/Pause", Caller{Peer: Peer{"admin", "admin"}}, true},
		{"/ftgo.admin.v1.AdminService/Pause", Caller{Peer: Peer{"kitchen", "service"}, EndUser: &EndUser{Role: "admin", Subject: "x"}}, false},
	}
	for _, c := range cases {
		if got := access.Allows(c.method, c.caller); got != c.want {
			t.Errorf("Allows(%s, %+v) = %v, want %v", c.method, c.caller, got, c.want)
		}
	}
}

func TestFindAccessFile(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindAccessFile(noEnv, nested); err == nil || !strings.Contains(err.Error(), AccessFileVariable) {
		t.Fatalf("no table anywhere: err = %v, want one naming %s", err, AccessFileVariable)
	}
	if err := os.MkdirAll(filepath.Join(root, "proto"), 0o755); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(root, "proto", "access.json")
	if err := os.WriteFile(table, []byte(`{"methods": {"a.B/*": ["*"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindAccessFile(noEnv, nested); err != nil || got != table {
		t.Fatalf("walking up: %q, %v; want %q", got, err, table)
	}
	if got, _ := FindAccessFile(env(map[string]string{AccessFileVariable: "/elsewhere.json"}), nested); got != "/elsewhere.json" {
		t.Fatalf("FTGO_ACCESS_FILE should win, got %q", got)
	}
	if _, err := ReadAccess(filepath.Join(root, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(table, []byte(`{"methods": {"NoSlash": ["*"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAccess(table); err == nil || !strings.Contains(err.Error(), "NoSlash") {
		t.Fatalf("bad key: %v", err)
	}
}

func TestLoadTLS(t *testing.T) {
	pki := pkitest.Init(t)
	if identity, err := LoadTLS(noEnv); identity != nil || err != nil {
		t.Fatalf("learner's mode: %v, %v", identity, err)
	}
	partial := pki.Env("loyalty")
	delete(partial, "FTGO_TLS_KEY")
	if _, err := LoadTLS(env(partial)); err == nil || !strings.Contains(err.Error(), "FTGO_TLS_CA, FTGO_TLS_CERT, FTGO_TLS_KEY") {
		t.Fatalf("partial: %v", err)
	}
	wrongKey := pki.Env("loyalty")
	wrongKey["FTGO_TLS_KEY"] = pki.Key("order")
	if _, err := LoadTLS(env(wrongKey)); err == nil {
		t.Fatal("a key that is not the certificate's was accepted")
	}
	identity, err := LoadTLS(env(pki.Env("loyalty")))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := identity.Identity(); err != nil || p != (Peer{Name: "loyalty", Role: "service"}) {
		t.Fatalf("identity %+v, %v", p, err)
	}
}

func TestVerifyEndUser(t *testing.T) {
	pki := pkitest.Init(t)
	gateway := readCert(t, pki.Cert("gateway"))
	gatewayKey, adminKey := readKey(t, pki.Key("gateway")), readKey(t, pki.Key("admin"))
	sign := func(key any, method jwt.SigningMethod, claims jwt.MapClaims) string {
		base := jwt.MapClaims{"sub": "c-1001", "role": "consumer", "iss": "gateway", "aud": "ftgo-mesh",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
		for k, v := range claims {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		s, err := jwt.NewWithClaims(method, base).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	user, err := VerifyEndUser(sign(gatewayKey, jwt.SigningMethodES256, nil), gateway, "gateway")
	if err != nil || user != (EndUser{Role: "consumer", Subject: "c-1001"}) {
		t.Fatalf("valid claim: %+v, %v", user, err)
	}
	bad := map[string]string{
		"another key":      sign(adminKey, jwt.SigningMethodES256, nil),
		"HS256":            sign([]byte("secret"), jwt.SigningMethodHS256, nil),
		"expired":          sign(gatewayKey, jwt.SigningMethodES256, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}),
		"no exp":           sign(gatewayKey, jwt.SigningMethodES256, jwt.MapClaims{"exp": nil}),
		"another audience": sign(gatewayKey, jwt.SigningMethodES256, jwt.MapClaims{"aud": "elsewhere"}),
		"another issuer":   sign(gatewayKey, jwt.SigningMethodES256, jwt.MapClaims{"iss": "kitchen"}),
		"unknown role":     sign(gatewayKey, jwt.SigningMethodES256, jwt.MapClaims{"role": "root"}),
		"no subject":       sign(gatewayKey, jwt.SigningMethodES256, jwt.MapClaims{"sub": nil}),
		"not a JWT":        "nonsense",
	}
	for what, token := range bad {
		if user, err := VerifyEndUser(token, gateway, "gateway"); err == nil {
			t.Errorf("%s: accepted as %+v", what, user)
		}
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func readKey(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
