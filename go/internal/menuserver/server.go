// Package menuserver serves KitchenService.GetMenu from Kitchen Service's seed menus, in Go, for the
// language benchmark (bench/suites/polyglot.ts): the same RPC, the same contract rules and the same
// response bytes as the TypeScript server, so that what differs is the language and its gRPC library.
// The other Kitchen methods answer Unimplemented: the benchmark does not call them.
package menuserver

import (
	"context"
	"errors"
	"fmt"

	"buf.build/go/protovalidate"
	kitchenv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Menus answers GetMenu from a fixed set of menus, built once.
type Menus struct {
	kitchenv1.UnimplementedKitchenServiceServer
	menus     map[string]*kitchenv1.GetMenuResponse
	validator protovalidate.Validator
}

// NewMenus returns the seed menus of Kitchen Service, ready to serve.
func NewMenus() (*Menus, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("menuserver: create the request validator: %w", err)
	}
	return &Menus{menus: seedMenus(), validator: validator}, nil
}

// GetMenu checks the request against the contract's declared limits, as the TypeScript platform does for
// every request, and answers with the restaurant's menu, or NotFound.
func (m *Menus) GetMenu(_ context.Context, req *kitchenv1.GetMenuRequest) (*kitchenv1.GetMenuResponse, error) {
	if err := m.checkLimits(req); err != nil {
		return nil, err
	}
	menu, ok := m.menus[req.GetRestaurantId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "restaurant %s not found", req.GetRestaurantId())
	}
	return menu, nil
}

// checkLimits maps a broken buf.validate rule to InvalidArgument, naming it.
func (m *Menus) checkLimits(req proto.Message) error {
	err := m.validator.Validate(req)
	if err == nil {
		return nil
	}
	var violations *protovalidate.ValidationError
	if errors.As(err, &violations) {
		return status.Error(codes.InvalidArgument, violations.Error())
	}
	return status.Errorf(codes.Internal, "checking the request: %v", err)
}

// NewServer returns a gRPC server with KitchenService (GetMenu only), grpc.health.v1 reporting SERVING
// for the whole server and for ftgo.kitchen.v1.KitchenService, and server reflection, so that grpcurl and
// ghz reach it as they reach the TypeScript services. The caller owns Serve and GracefulStop.
func NewServer(menus *Menus, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	server := grpc.NewServer(opts...)
	kitchenv1.RegisterKitchenServiceServer(server, menus)
	healthServer := health.NewServer()
	healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthServer.SetServingStatus(kitchenv1.KitchenService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, healthServer)
	reflection.Register(server)
	return server, healthServer
}
