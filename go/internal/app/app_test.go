package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/config"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/consultest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
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
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	natstest.Eventually(t, 60*time.Second, "loyalty to pass its check in Consul", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned before registering: %v", err)
		default:
		}
		return len(consultest.Health(t, consulAddr, "loyalty", true)) == 1
	})

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60 s of its shutdown")
	}
	if entries := consultest.Health(t, consulAddr, "loyalty", false); len(entries) != 0 {
		t.Fatalf("the agent still lists loyalty after shutdown: %+v", entries)
	}
}
