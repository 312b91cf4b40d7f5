package loyalty

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// serve runs the handlers on a real loopback socket and returns a client of them; options go to the server
// (an interceptor, say).
func serve(t *testing.T, store *Store, options ...grpc.ServerOption) loyaltyv1.LoyaltyServiceClient {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer(options...)
	loyaltyv1.RegisterLoyaltyServiceServer(server, NewService(store, slog.New(slog.NewTextHandler(io.Discard, nil))))
	go func() { _ = server.Serve(l) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return loyaltyv1.NewLoyaltyServiceClient(conn)
}

func TestCallsAreCheckedAgainstTheContract(t *testing.T) {
	s := openStore(t)
	record(t, s, "o-1", message{"c", Created("c-1", 12)}, message{"a", Approved})
	client := serve(t, s)
	ctx := context.Background()

	for _, c := range []struct {
		name  string
		call  func() error
		code  codes.Code
		field string
	}{
		{"missing consumer id", func() error { _, err := client.GetAccount(ctx, &loyaltyv1.GetAccountRequest{}); return err }, codes.InvalidArgument, "consumer_id"},
		{"malformed order id", func() error {
			_, err := client.GetOrderPoints(ctx, &loyaltyv1.GetOrderPointsRequest{OrderId: "o 1"})
			return err
		}, codes.InvalidArgument, "order_id"},
		{"unknown consumer", func() error {
			_, err := client.GetAccount(ctx, &loyaltyv1.GetAccountRequest{ConsumerId: "c-2"})
			return err
		}, codes.NotFound, "c-2"},
		{"unknown order", func() error {
			_, err := client.GetOrderPoints(ctx, &loyaltyv1.GetOrderPointsRequest{OrderId: "o-2"})
			return err
		}, codes.NotFound, "o-2"},
	} {
		err := c.call()
		if status.Code(err) != c.code || !strings.Contains(status.Convert(err).Message(), c.field) {
			t.Errorf("%s: got %v, want %v naming %s", c.name, err, c.code, c.field)
		}
	}
	res, err := client.GetOrderPoints(ctx, &loyaltyv1.GetOrderPointsRequest{OrderId: "o-1"})
	if err != nil || res.GetOrderPoints().GetState() != Earned || res.GetOrderPoints().GetPoints() != 12 {
		t.Fatalf("GetOrderPoints: %v, %v", res, err)
	}
	acc, err := client.GetAccount(ctx, &loyaltyv1.GetAccountRequest{ConsumerId: "c-1"})
	if err != nil || acc.GetAccount().GetPointsBalance() != 12 || acc.GetAccount().GetOrdersRewarded() != 1 {
		t.Fatalf("GetAccount: %v, %v", acc, err)
	}
}
