package loyalty

import (
	"context"
	"testing"

	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
)

// serveAs runs the handlers with every call recorded as made by caller, as the secure mode's Authorizer
// records the caller it admitted.
func serveAs(t *testing.T, store *Store, caller mesh.Caller) loyaltyv1.LoyaltyServiceClient {
	t.Helper()
	return serve(t, store, grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(mesh.WithCaller(ctx, caller), req)
	}))
}

// A call made for a consumer reads only that consumer's account and orders (another's order is NOT_FOUND,
// like a missing one); the gateway for an admin and an admin read any; a call for no end user reads nothing.
func TestAConsumerReadsOnlyTheirOwn(t *testing.T) {
	s := openStore(t)
	record(t, s, "o-1", message{"c", Created("c-1", 12)}, message{"a", Approved})
	record(t, s, "o-2", message{"c2", Created("c-2", 5)}, message{"a2", Approved})
	gateway := mesh.Peer{Name: "gateway", Role: "gateway"}
	consumer := func(id string) mesh.Caller {
		return mesh.Caller{Peer: gateway, EndUser: &mesh.EndUser{Role: "consumer", Subject: id}}
	}
	ctx := context.Background()
	cases := []struct {
		caller          mesh.Caller
		consumer, order string
		account, points codes.Code
	}{
		{consumer("c-1"), "c-1", "o-1", codes.OK, codes.OK},
		{consumer("c-1"), "c-2", "o-2", codes.PermissionDenied, codes.NotFound},
		{mesh.Caller{Peer: mesh.Peer{Name: "c-2", Role: "learner"}}, "c-1", "o-1", codes.PermissionDenied, codes.NotFound},
		{mesh.Caller{Peer: mesh.Peer{Name: "c-2", Role: "learner"}}, "c-2", "o-2", codes.OK, codes.OK},
		{mesh.Caller{Peer: gateway, EndUser: &mesh.EndUser{Role: "admin", Subject: "root"}}, "c-2", "o-2", codes.OK, codes.OK},
		{mesh.Caller{Peer: mesh.Peer{Name: "admin", Role: "admin"}}, "c-1", "o-1", codes.OK, codes.OK},
		{mesh.Caller{Peer: gateway}, "c-2", "o-2", codes.PermissionDenied, codes.PermissionDenied},
		{mesh.Caller{Peer: mesh.Peer{Name: "order", Role: "service"}}, "c-2", "o-2", codes.PermissionDenied, codes.PermissionDenied},
	}
	for _, c := range cases {
		client := serveAs(t, s, c.caller)
		_, err := client.GetAccount(ctx, &loyaltyv1.GetAccountRequest{ConsumerId: c.consumer})
		if status.Code(err) != c.account {
			t.Errorf("GetAccount(%s) for %+v: %v, want %v", c.consumer, c.caller, err, c.account)
		}
		_, err = client.GetOrderPoints(ctx, &loyaltyv1.GetOrderPointsRequest{OrderId: c.order})
		if status.Code(err) != c.points {
			t.Errorf("GetOrderPoints(%s) for %+v: %v, want %v", c.order, c.caller, err, c.points)
		}
		if c.points == codes.NotFound && status.Convert(err).Message() != "order "+c.order+" is unknown to loyalty" {
			t.Errorf("another's order is not answered like a missing one: %v", err)
		}
	}
}
