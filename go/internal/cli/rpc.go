package cli

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
)

// retryPolicy lets grpc-go repeat, after UNAVAILABLE, the calls that are safe to repeat (the contract marks
// them NO_SIDE_EFFECTS or IDEMPOTENT): reads, and v2 CreateOrder, whose idempotency key makes a repeat answer
// with the order the first attempt created. A streaming call is repeated only before its first message.
const retryPolicy = `{"methodConfig": [{
  "name": [
    {"service": "ftgo.kitchen.v1.KitchenService", "method": "GetMenu"},
    {"service": "ftgo.order.v2.OrderService", "method": "CreateOrder"},
    {"service": "ftgo.order.v2.OrderService", "method": "WatchOrder"}
  ],
  "retryPolicy": {
    "maxAttempts": 3,
    "initialBackoff": "0.2s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"]
  }
}]}`

// dial makes a client connection to a service of the mesh: plaintext, as make up serves it, or, with
// FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY in the environment (the secure mode; an operator uses the admin
// certificate), mTLS with that certificate. The connection is lazy; a service that is down shows as
// Unavailable on the first call (after the retries above).
func dial(addr string, getenv func(string) string) (*grpc.ClientConn, error) {
	identity, err := meshTLS(getenv)
	if err != nil {
		return nil, err
	}
	creds := grpc.WithTransportCredentials(insecure.NewCredentials())
	if identity != nil {
		creds = identity.ClientCredentials()
	}
	conn, err := grpc.NewClient(addr, creds, grpc.WithUserAgent("ftgo-cli"), grpc.WithDefaultServiceConfig(retryPolicy))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return conn, nil
}

// rpcError is a failed call, printed as `<what failed>: <grpc code>: <message>`.
type rpcError struct {
	what string
	st   *status.Status
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.what, e.st.Code(), e.st.Message())
}

// callFailed wraps a call's error with what the call was for; an error that is not a gRPC status (a
// cancelled context, say) keeps its own text.
func callFailed(what string, err error) error {
	if st, ok := status.FromError(err); ok {
		return &rpcError{what: what, st: st}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// meshTLS is the secure mode's identity from FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY (all three or none),
// nil without them.
func meshTLS(getenv func(string) string) (*mesh.TLS, error) {
	return mesh.LoadTLS(func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	})
}
