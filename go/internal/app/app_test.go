package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/config"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/consultest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/proctest"
)

// Under REGISTRY=consul the service registers with the agent, passes its gRPC check, and on shutdown
// (main cancels Run's context on SIGTERM) deregisters before it stops serving: the agent lists nothing,
// not a critical instance waiting for DeregisterCriticalServiceAfter.
func TestRegistersInConsulAndDeregistersOnShutdown(t *testing.T) {
	consulAddr := consultest.Start(t)
	env := map[string]string{
		"PORT": "0", "DATA_DIR": t.TempDir(), "NATS_URL": natstest.Start(t),
		"REGISTRY": "consul", "CONSUL_HTTP_ADDR": consulAddr,
	}
	r := startRun(t, env)

	natstest.Eventually(t, 60*time.Second, "loyalty to pass its check in Consul", func() bool {
		r.failIfReturned(t)
		return len(consultest.Health(t, consulAddr, "loyalty", true)) == 1
	})

	r.shutDown(t)
	if entries := consultest.Health(t, consulAddr, "loyalty", false); len(entries) != 0 {
		t.Fatalf("the agent still lists loyalty after shutdown: %+v", entries)
	}
}

// Under DISCOVERY=server the registrar registers the service, not the service itself: with REGISTRY=consul
// and an agent that answers, it still turns SERVING without entering the agent's catalog.
func TestRegistersNowhereUnderServerSideDiscovery(t *testing.T) {
	consulAddr := consultest.Start(t)
	port := proctest.FreePort(t)
	env := map[string]string{
		"PORT": strconv.Itoa(port), "DATA_DIR": t.TempDir(), "NATS_URL": natstest.Start(t),
		"DISCOVERY": "server", "DISCOVERY_ROUTER": "127.0.0.1:8090", "REGISTRY": "consul", "CONSUL_HTTP_ADDR": consulAddr,
	}
	r := startRun(t, env)

	r.waitServing(t, port)
	if entries := consultest.Health(t, consulAddr, "loyalty", false); len(entries) != 0 {
		t.Fatalf("loyalty registered itself under DISCOVERY=server: %+v", entries)
	}
	r.shutDown(t)
}

// waitServing waits until the run's health check on port says SERVING (failing if the run returns first).
func (r *run) waitServing(t *testing.T, port int) {
	t.Helper()
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	natstest.Eventually(t, 60*time.Second, "loyalty to be SERVING", func() bool {
		r.failIfReturned(t)
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{})
		return err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})
}

// run is Run in a goroutine, as main runs it: shutDown cancels its context, as SIGTERM does.
type run struct {
	stop context.CancelFunc
	done chan error
}

func startRun(t *testing.T, env map[string]string) *run {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	r := &run{stop: stop, done: make(chan error, 1)}
	go func() { r.done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	return r
}

// failIfReturned fails the test if Run has already returned (a failed start).
func (r *run) failIfReturned(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		t.Fatalf("Run returned early: %v", err)
	default:
	}
}

// shutDown cancels Run's context and waits for a clean return.
func (r *run) shutDown(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60 s of its shutdown")
	}
}
