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

// GetAccount returns a consumer's points.
func (s *Service) GetAccount(ctx context.Context, req *loyaltyv1.GetAccountRequest) (*loyaltyv1.GetAccountResponse, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	if err := ownedBy(ctx, req.GetConsumerId(), "the account of consumer "+req.GetConsumerId()); err != nil {
		return nil, err
	}
	account, err := s.store.Account(ctx, req.GetConsumerId())
	if err != nil {
		return nil, s.status(err, "consumer "+req.GetConsumerId()+" has no loyalty account")
	}
	return &loyaltyv1.GetAccountResponse{Account: account}, nil
}

// GetOrderPoints returns what one order earned.
func (s *Service) GetOrderPoints(ctx context.Context, req *loyaltyv1.GetOrderPointsRequest) (*loyaltyv1.GetOrderPointsResponse, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	points, err := s.store.OrderPoints(ctx, req.GetOrderId())
	if err != nil {
		return nil, s.status(err, "order "+req.GetOrderId()+" is unknown to loyalty")
	}
	if err := ownedBy(ctx, points.GetConsumerId(), "the points of order "+req.GetOrderId()); err != nil {
		return nil, err
	}
	return &loyaltyv1.GetOrderPointsResponse{OrderPoints: points}, nil
}

// ownedBy is the object-level rule of the secure mode: a call made for a consumer (the gateway forwarding a
// consumer's end-user claim, or a learner's certificate) reads only that consumer's own account and orders;
// PERMISSION_DENIED otherwise. Callers that are no consumer (the gateway on its own behalf, an admin) and the
// learner's mode (no caller recorded) are not restricted.
func ownedBy(ctx context.Context, owner, what string) error {
	caller, ok := mesh.CallerFrom(ctx)
	if !ok {
		return nil
	}
	if consumer, restricted := caller.Consumer(); restricted && consumer != owner {
		return status.Errorf(codes.PermissionDenied, "consumer %s may not read %s", consumer, what)
	}
	return nil
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
