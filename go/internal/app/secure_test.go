package app

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/pkitest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// The secure mode, end to end: a PKI made by scripts/pki.sh, a nats-server that speaks TLS only and requires
// client certificates of the mesh CA, and the Loyalty service started with FTGO_TLS_* (its certificate
// "loyalty") and the repository's proto/access.json (found by walking up from the package directory). It only
// turns SERVING once it has connected to that NATS with its certificate and registered in the KV bucket.
func TestSecureMode(t *testing.T) {
	pki := pkitest.Init(t, "ada")
	stranger := pkitest.Learner(t, "stranger") // a CA of its own, not the mesh's
	natsURL := natstest.StartTLS(t, pki.CA(), pki.Cert("nats"), pki.Key("nats"),
		nats.RootCAs(pki.CA()), nats.ClientCert(pki.Cert("admin"), pki.Key("admin")))
	port := proctest.FreePort(t)
	env := pki.Env("loyalty")
	env["PORT"], env["DATA_DIR"], env["NATS_URL"] = strconv.Itoa(port), t.TempDir(), natsURL
	r := startRun(t, env)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	gateway := dialAs(t, addr, pki, "gateway")
	natstest.Eventually(t, 60*time.Second, "loyalty to be SERVING to the gateway", func() bool {
		r.failIfReturned(t)
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := healthpb.NewHealthClient(gateway).Check(cctx, &healthpb.HealthCheckRequest{})
		return err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})

	t.Run("its registry entry is in ftgo_registry, over NATS TLS", func(t *testing.T) {
		nc, err := nats.Connect(natsURL, nats.RootCAs(pki.CA()), nats.ClientCert(pki.Cert("admin"), pki.Key("admin")))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		kv, err := js.KeyValue(ctx, "ftgo_registry")
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || !strings.HasPrefix(keys[0], "loyalty.loyalty-"+strconv.Itoa(port)+"-") {
			t.Fatalf("registry keys = %v, want one loyalty.loyalty-%d-…", keys, port)
		}
	})

	t.Run("a plaintext client is refused", func(t *testing.T) {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		expectCode(t, check(conn), codes.Unavailable)
	})

	t.Run("a TLS client without a certificate is refused", func(t *testing.T) {
		identity, err := mesh.ReadTLS(pki.CA(), pki.Cert("gateway"), pki.Key("gateway"))
		if err != nil {
			t.Fatal(err)
		}
		cfg := identity.ClientConfig()
		cfg.Certificates = nil
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		expectCode(t, check(conn), codes.Unavailable)
	})

	t.Run("a certificate of another CA is refused", func(t *testing.T) {
		identity, err := mesh.ReadTLS(pki.CA(), stranger.Cert("stranger"), stranger.Key("stranger"))
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(addr, identity.ClientCredentials())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		expectCode(t, check(conn), codes.Unavailable)
	})

	t.Run("health and reflection answer any certificate of the CA", func(t *testing.T) {
		for _, name := range []string{"ada", "courier-1", "order", "admin"} {
			conn := dialAs(t, addr, pki, name)
			if err := check(conn); err != nil {
				t.Fatalf("%s: health Check: %v", name, err)
			}
			services := listServices(t, conn)
			if !strings.Contains(services, "ftgo.loyalty.v1.LoyaltyService") {
				t.Fatalf("%s: reflection lists %s", name, services)
			}
		}
	})

	t.Run("a learner's certificate is denied GetAccount", func(t *testing.T) {
		_, err := getAccount(context.Background(), dialAs(t, addr, pki, "ada"), "ada")
		expectCode(t, err, codes.PermissionDenied)
		for _, want := range []string{"ada (learner)", "ftgo.loyalty.v1.LoyaltyService/GetAccount"} {
			if !strings.Contains(status.Convert(err).Message(), want) {
				t.Fatalf("the denial %q does not name %q", status.Convert(err).Message(), want)
			}
		}
	})

	t.Run("a service the table does not name is denied GetOrderPoints", func(t *testing.T) {
		_, err := loyaltyv1.NewLoyaltyServiceClient(dialAs(t, addr, pki, "order")).
			GetOrderPoints(context.Background(), &loyaltyv1.GetOrderPointsRequest{OrderId: "o-1"})
		expectCode(t, err, codes.PermissionDenied)
	})

	t.Run("an admin is let through to the handler; the gateway only with an end user", func(t *testing.T) {
		_, err := getAccount(context.Background(), dialAs(t, addr, pki, "admin"), "c-1001")
		expectCode(t, err, codes.NotFound) // the handler's answer: nobody has ordered yet
		_, err = getAccount(context.Background(), dialAs(t, addr, pki, "gateway"), "c-1001")
		expectCode(t, err, codes.PermissionDenied)
		if !strings.Contains(status.Convert(err).Message(), "end user is required") {
			t.Fatalf("the gateway without a claim: %v", err)
		}
	})

	t.Run("the gateway's end-user claim: a consumer reads only their own account, an admin anyone's", func(t *testing.T) {
		gw := dialAs(t, addr, pki, "gateway")
		own := claim(t, pki.Key("gateway"), "gateway", "c-1001", "consumer", time.Minute)
		_, err := getAccount(withClaim(own), gw, "c-1001")
		expectCode(t, err, codes.NotFound)
		_, err = getAccount(withClaim(own), gw, "c-1002")
		expectCode(t, err, codes.PermissionDenied)
		if msg := status.Convert(err).Message(); !strings.Contains(msg, "c-1001 may not read the account of c-1002") {
			t.Fatalf("the denial says %q", msg)
		}
		admin := claim(t, pki.Key("gateway"), "gateway", "root", "admin", time.Minute)
		_, err = getAccount(withClaim(admin), gw, "c-1002")
		expectCode(t, err, codes.NotFound)
	})

	t.Run("a claim from another peer than the gateway is ignored", func(t *testing.T) {
		// Were the admin's own claim for consumer c-1001 believed, c-1002's account would be denied to it.
		consumerClaim := claim(t, pki.Key("admin"), "admin", "c-1001", "consumer", time.Minute)
		_, err := getAccount(withClaim(consumerClaim), dialAs(t, addr, pki, "admin"), "c-1002")
		expectCode(t, err, codes.NotFound)
	})

	t.Run("a claim not signed with the gateway's key, or expired, is refused", func(t *testing.T) {
		gw := dialAs(t, addr, pki, "gateway")
		forged := claim(t, pki.Key("admin"), "gateway", "c-1001", "consumer", time.Minute)
		_, err := getAccount(withClaim(forged), gw, "c-1001")
		expectCode(t, err, codes.Unauthenticated)
		expired := claim(t, pki.Key("gateway"), "gateway", "c-1001", "consumer", -time.Minute)
		_, err = getAccount(withClaim(expired), gw, "c-1001")
		expectCode(t, err, codes.Unauthenticated)
	})

	r.shutDown(t)
}

func dialAs(t *testing.T, addr string, pki pkitest.Dir, name string) *grpc.ClientConn {
	t.Helper()
	identity, err := mesh.ReadTLS(pki.CA(), pki.Cert(name), pki.Key(name))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, identity.ClientCredentials())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func check(conn *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func getAccount(ctx context.Context, conn *grpc.ClientConn, consumerID string) (*loyaltyv1.GetAccountResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return loyaltyv1.NewLoyaltyServiceClient(conn).GetAccount(ctx, &loyaltyv1.GetAccountRequest{ConsumerId: consumerID})
}

// listServices asks the server's reflection (v1, a bidirectional stream) for its services.
func listServices(t *testing.T, conn *grpc.ClientConn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: ""},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	_ = stream.CloseSend()
	var names []string
	for _, s := range res.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return strings.Join(names, ",")
}

// claim signs an end-user claim as packages/platform/src/grpc/end-user.ts does: ES256, sub, role, iss, aud
// "ftgo-mesh", iat, exp (ttl from now; negative for one that has expired).
func claim(t *testing.T, keyFile, issuer, subject, role string, ttl time.Duration) string {
	t.Helper()
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	token, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"role": role, "sub": subject, "iss": issuer, "aud": "ftgo-mesh",
		"iat": now.Add(-2 * time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func withClaim(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), mesh.EndUserHeader, token)
}

func expectCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}
