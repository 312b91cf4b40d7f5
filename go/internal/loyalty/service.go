package loyalty

import (
	"context"
	"errors"
	"log/slog"

	"buf.build/go/protovalidate"
	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
)

// Service serves LoyaltyService from the store.
type Service struct {
	loyaltyv1.UnimplementedLoyaltyServiceServer
	store *Store
	log   *slog.Logger
}

// NewService returns the gRPC handlers.
func NewService(store *Store, log *slog.Logger) *Service { return &Service{store: store, log: log} }

// GetAccount returns a consumer's points. In the secure mode a call for a consumer reads only that
// consumer's account (readerOf).
func (s *Service) GetAccount(ctx context.Context, req *loyaltyv1.GetAccountRequest) (*loyaltyv1.GetAccountResponse, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	acting, consumer, err := readerOf(ctx)
	if err != nil {
		return nil, err
	}
	if acting == mesh.ForConsumer && consumer != req.GetConsumerId() {
		return nil, status.Errorf(codes.PermissionDenied, "%s may not read the account of %s", consumer, req.GetConsumerId())
	}
	account, err := s.store.Account(ctx, req.GetConsumerId())
	if err != nil {
		return nil, s.status(err, "consumer "+req.GetConsumerId()+" has no loyalty account")
	}
	return &loyaltyv1.GetAccountResponse{Account: account}, nil
}

// GetOrderPoints returns what one order earned. In the secure mode a call for a consumer reads only that
// consumer's orders: another's is answered exactly like a missing one, as Order and the gateway answer it, so
// that a caller cannot learn which order ids exist.
func (s *Service) GetOrderPoints(ctx context.Context, req *loyaltyv1.GetOrderPointsRequest) (*loyaltyv1.GetOrderPointsResponse, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	acting, consumer, err := readerOf(ctx)
	if err != nil {
		return nil, err
	}
	notFound := "order " + req.GetOrderId() + " is unknown to loyalty"
	points, err := s.store.OrderPoints(ctx, req.GetOrderId())
	if err != nil {
		return nil, s.status(err, notFound)
	}
	if acting == mesh.ForConsumer && consumer != points.GetConsumerId() {
		return nil, status.Error(codes.NotFound, notFound)
	}
	return &loyaltyv1.GetOrderPointsResponse{OrderPoints: points}, nil
}

// readerOf is whom a call reads for, the object-level rule of the secure mode as Order's
// (services/order/src/access.ts, from mesh.ActingFor): a consumer (the gateway forwarding a consumer's claim,
// a learner's certificate) reads only their own; anyone's for an admin, the gateway forwarding an admin, and
// every caller in the learner's mode; a call for no end user (the gateway without a claim, a service) is
// PERMISSION_DENIED before it reads anything.
func readerOf(ctx context.Context) (mesh.Acting, string, error) {
	acting, consumer := mesh.ActingFor(ctx)
	if acting == mesh.ForNobody {
		return acting, "", status.Error(codes.PermissionDenied,
			"a verified end user is required: call through the gateway as a signed-in user, or with a learner's or the admin's certificate")
	}
	return acting, consumer, nil
}

// validate checks a request against its contract's rules: InvalidArgument naming each field.
func validate(req proto.Message) error {
	if err := protovalidate.Validate(req); err != nil {
		return status.Error(codes.InvalidArgument, Violations(err))
	}
	return nil
}

// status maps the store's errors to gRPC codes in one place; anything unexpected is logged and Internal.
func (s *Service) status(err error, notFound string) error {
	if errors.Is(err, ErrNotFound) {
		return status.Error(codes.NotFound, notFound)
	}
	s.log.Error("loyalty call failed", "err", err)
	return status.Error(codes.Internal, "internal error")
}
