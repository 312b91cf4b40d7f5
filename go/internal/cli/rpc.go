package cli

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// dial makes a client connection to a service of the mesh: plaintext, as make up serves it. The connection
// is lazy; a service that is down shows as Unavailable on the first call.
func dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("ftgo-cli"))
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
