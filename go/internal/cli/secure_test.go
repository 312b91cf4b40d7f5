package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"

	kitchenv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pkitest"
)

// kitchen answers GetMenu with one restaurant.
type kitchen struct {
	kitchenv1.UnimplementedKitchenServiceServer
}

func (kitchen) GetMenu(context.Context, *kitchenv1.GetMenuRequest) (*kitchenv1.GetMenuResponse, error) {
	return &kitchenv1.GetMenuResponse{Restaurant: &kitchenv1.Restaurant{RestaurantId: "r-1", Name: "Pho Hanoi", Open: true}}, nil
}

// startSecureKitchen serves KitchenService as the secure mode does: mTLS with the kitchen's certificate, the
// repository's access table enforced.
func startSecureKitchen(t *testing.T, pki pkitest.Dir) string {
	t.Helper()
	identity, err := mesh.ReadTLS(pki.CA(), pki.Cert("kitchen"), pki.Key("kitchen"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	access, err := mesh.LoadAccess(func(string) (string, bool) { return "", false }, wd)
	if err != nil {
		t.Fatal(err)
	}
	authz := &mesh.Authorizer{Access: access}
	server := grpc.NewServer(identity.ServerCredentials(), grpc.UnaryInterceptor(authz.Unary))
	kitchenv1.RegisterKitchenServiceServer(server, kitchen{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { _ = server.Serve(l); close(served) }()
	t.Cleanup(func() { server.Stop(); <-served })
	return l.Addr().String()
}

func runWith(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
	return code, stdout.String(), stderr.String()
}

// In the secure mode an operator runs ftgo with the admin certificate in FTGO_TLS_*: its gRPC calls are mTLS.
func TestCLIUsesTheMeshCertificateForGRPC(t *testing.T) {
	pki := pkitest.Init(t)
	addr := startSecureKitchen(t, pki)
	env := pki.Env("admin")
	env["FTGO_KITCHEN_ADDR"] = addr
	if code, out, errOut := runWith(env, "menu", "r-1", "--timeout", "5s"); code != ExitOK || !strings.Contains(out, "Pho Hanoi") {
		t.Fatalf("admin certificate: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	plain := map[string]string{"FTGO_KITCHEN_ADDR": addr}
	if code, _, errOut := runWith(plain, "menu", "r-1", "--timeout", "5s"); code != ExitFailure || !strings.Contains(errOut, "Unavailable") {
		t.Fatalf("plaintext against the secure server: exit %d, stderr %q", code, errOut)
	}
	partial := pki.Env("admin")
	delete(partial, "FTGO_TLS_KEY")
	partial["FTGO_KITCHEN_ADDR"] = addr
	if code, _, errOut := runWith(partial, "menu", "r-1"); code != ExitFailure || !strings.Contains(errOut, "FTGO_TLS_CA, FTGO_TLS_CERT, FTGO_TLS_KEY") {
		t.Fatalf("two of three variables: exit %d, stderr %q", code, errOut)
	}
}

// ... and its NATS connection is TLS with that certificate: a broker that requires one lets it in.
func TestCLIUsesTheMeshCertificateForNATS(t *testing.T) {
	pki := pkitest.Init(t)
	url := natstest.StartTLS(t, pki.CA(), pki.Cert("nats"), pki.Key("nats"),
		nats.RootCAs(pki.CA()), nats.ClientCert(pki.Cert("admin"), pki.Key("admin")))
	// Connected, it finds the broker empty: no saga streams.
	if code, _, errOut := runWith(pki.Env("admin"), "events", "--nats-url", url, "--timeout", "5s"); code != ExitFailure || !strings.Contains(errOut, "no saga streams") {
		t.Fatalf("admin certificate: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runWith(map[string]string{}, "events", "--nats-url", url, "--timeout", "5s"); code != ExitFailure || !strings.Contains(errOut, "connect to NATS") {
		t.Fatalf("without a certificate: exit %d, stderr %q", code, errOut)
	}
}
