// Package app composes the Loyalty service: store, NATS, gRPC server, consumers, outbox relay and
// self-registration, started in the order that makes "SERVING" mean ready and stopped in the reverse.
//
//	start  store → NATS → gRPC (health NOT_SERVING) → relay → consumers → register → SERVING
//	stop   NOT_SERVING → deregister → stop consuming → relay flush → GracefulStop → drain NATS → close store
//
// The registry is NATS KV or Consul (REGISTRY); in between, the entry follows the overall health
// (registry.Self): NOT_SERVING takes it out, SERVING puts it back. Under DISCOVERY=server it registers
// nowhere (a registrar does, from the outside): "register" only turns the server SERVING.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/config"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/loyalty"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/mesh"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/metrics"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/registry"
)

// startTimeout bounds the start-up steps that talk to NATS or PostgreSQL.
const startTimeout = 30 * time.Second

// Run starts the service and serves until ctx is cancelled (SIGTERM/SIGINT), then shuts down
// gracefully. It returns an error when the start fails; what it started is stopped again first.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) (err error) {
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	openCtx, cancelOpen := context.WithTimeout(ctx, startTimeout)
	store, err := loyalty.Open(openCtx, cfg.DatabaseURL, cfg.DBPath(), cfg.Partitions)
	cancelOpen()
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	})
	secureNats, err := secureNatsOptions(cfg.TLS)
	if err != nil {
		return err
	}
	natsOptions := append([]nats.Option{nats.Name(cfg.Service), nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond)}, secureNats...)
	if strings.Contains(cfg.NatsURL, ",") {
		// A cluster: a frozen server keeps its socket open and only unanswered pings tell (default 2 × 2 min);
		// with others to fail over to, notice within seconds, as connectNats does.
		natsOptions = append(natsOptions, nats.PingInterval(3*time.Second), nats.MaxPingsOutstanding(2))
	}
	nc, err := nats.Connect(cfg.NatsURL, natsOptions...)
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %w", cfg.NatsURL, err)
	}
	cleanups = append(cleanups, func() { drain(nc, log) })
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("opening JetStream: %w", err)
	}

	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listening on %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	// otelgrpc: a server span per call, continuing the caller's traceparent (a no-op unless tracing is on).
	// metrics: rpc_server_duration_seconds, by service, method and code, as the TypeScript servers count them;
	// malformed: a request that does not decode is InvalidArgument, not grpc-go's Internal (malformed.go).
	var malformed malformedRequests
	server := grpc.NewServer(append(
		malformed.serverOptions(unaryInterceptors(cfg, log)...),
		append(secureServerOptions(cfg, log),
			grpc.MaxRecvMsgSize(4<<20),
			grpc.StatsHandler(otelgrpc.NewServerHandler()),
		)...,
	)...)
	healthServer := health.NewServer()
	setServing := func(serving bool) {
		s := healthpb.HealthCheckResponse_NOT_SERVING
		if serving {
			s = healthpb.HealthCheckResponse_SERVING
		}
		healthServer.SetServingStatus("", s)
		healthServer.SetServingStatus(loyaltyv1.LoyaltyService_ServiceDesc.ServiceName, s)
	}
	setServing(false)
	healthpb.RegisterHealthServer(server, healthServer)
	loyaltyv1.RegisterLoyaltyServiceServer(server, loyalty.NewService(store, log))
	reflection.Register(server)
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	cleanups = append(cleanups, func() { stopServer(server, log) })
	log.Info("grpc server listening", "address", listener.Addr().String(), "services", []string{loyaltyv1.LoyaltyService_ServiceDesc.ServiceName},
		"secure", cfg.Secure())

	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := messaging.EnsureEventStream(startCtx, js, cfg.Service, cfg.StreamReplicas); err != nil {
		return err
	}
	relay, err := messaging.StartRelay(store.DB(), js, log, 500*time.Millisecond)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, relay.Stop)
	if cfg.MetricsPort >= 0 {
		metrics.Outbox(func() (int, time.Duration) { return messaging.Backlog(store.DB()) })
		if _, err := metrics.Serve(ctx, cfg.Host, cfg.MetricsPort, log); err != nil {
			return fmt.Errorf("serving /metrics on port %d: %w", cfg.MetricsPort, err)
		}
	}
	consumers, err := messaging.Consume(startCtx, js, messaging.ConsumerOptions{
		Service: cfg.Service, Domain: "order", Partitions: cfg.Partitions, Replicas: cfg.StreamReplicas,
		Handlers: loyalty.EventHandlers(store, log), Committed: relay.Kick, Log: log,
	})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, consumers.Stop)
	backend, err := registryBackend(cfg, js, log)
	if err != nil {
		return err
	}
	self, err := registry.RegisterSelf(startCtx, backend, registry.NewInstance(cfg.Service, cfg.AdvertiseHost, port), setServing, log)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := self.Withdraw(dctx); err != nil {
			log.Warn("could not deregister; the entry expires with the registry TTL (NATS KV) or its critical check (Consul)", "err", err)
		}
	})
	log.Info("loyalty ready", "port", port, "instanceId", self.Instance.ID, "discovery", cfg.Discovery, "registry", cfg.Registry)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return nil
	case err := <-served:
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("gRPC server failed: %w", err)
		}
		return errors.New("gRPC server stopped unexpectedly")
	}
}

// unaryInterceptors are the server's unary interceptors before the malformed-request check: the metrics
// (every call counted, refused ones too), then, in the secure mode, the access table's.
func unaryInterceptors(cfg config.Config, log *slog.Logger) []grpc.UnaryServerInterceptor {
	unary := []grpc.UnaryServerInterceptor{metrics.UnaryServerInterceptor}
	if cfg.Secure() {
		unary = append(unary, (&mesh.Authorizer{Access: cfg.Access, Log: log}).Unary)
	}
	return unary
}

// secureServerOptions are, in the secure mode, mTLS (a client certificate of the mesh CA required and verified)
// and the access table on streams; none in the learner's mode, where the server is plaintext and trusts every
// local caller.
func secureServerOptions(cfg config.Config, log *slog.Logger) []grpc.ServerOption {
	if !cfg.Secure() {
		return nil
	}
	return []grpc.ServerOption{
		cfg.TLS.ServerCredentials(),
		grpc.ChainStreamInterceptor((&mesh.Authorizer{Access: cfg.Access, Log: log}).Stream),
	}
}

// registryBackend opens the registry REGISTRY names: the NATS KV bucket (default) or the Consul agent;
// none under DISCOVERY=server, where the registrar registers the service.
// secureNatsOptions connect in the secure mode over TLS with the service's own certificate, by which the broker
// maps it to its NATS user and that user's permissions, and with its own reply inboxes `_INBOX_<CN>` (as
// packages/platform's connectNats): its user may subscribe to those only, so no other identity reads its JetStream
// API replies and pulled messages (jetstream takes the prefix from the connection). The learner's mode (nil)
// keeps nats.go's defaults, `_INBOX.` included: its broker has no permissions to honour.
func secureNatsOptions(t *mesh.TLS) ([]nats.Option, error) {
	if t == nil {
		return nil, nil
	}
	identity, err := t.Identity()
	if err != nil {
		return nil, fmt.Errorf("the NATS inbox prefix: %w", err)
	}
	return append(t.NatsOptions(), nats.CustomInboxPrefix("_INBOX_"+identity.Name)), nil
}

func registryBackend(cfg config.Config, js jetstream.JetStream, log *slog.Logger) (registry.Backend, error) {
	switch cfg.Registry {
	case config.RouterRegistry:
		return registry.ByRegistrar{}, nil
	case "consul":
		consul, err := registry.NewConsul(cfg.ConsulAddr, log)
		if err != nil {
			return nil, err
		}
		consul.TLSChecks = cfg.Secure()
		return consul, nil
	}
	return registry.NatsKV{JS: js, Options: registry.Options{TTL: cfg.RegistryTTL, Heartbeat: cfg.Heartbeat, Replicas: cfg.StreamReplicas, Log: log}}, nil
}

// stopServer finishes in-flight calls, forcing the stop if they outlast a grace period.
func stopServer(server *grpc.Server, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		server.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		log.Warn("calls still in flight after 5 s; stopping the server")
		server.Stop()
	}
}

// drain flushes NATS and closes the connection, waiting for it to close.
func drain(nc *nats.Conn, log *slog.Logger) {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		log.Warn("NATS drain timed out; closing")
		nc.Close()
	}
}
