package registry

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/consultest"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/natstest"
)

// serviceCheck is the status of the instance's own (gRPC) check, "" while the agent does not list it.
func serviceCheck(t *testing.T, addr, service, id string) string {
	for _, e := range consultest.Health(t, addr, service, false) {
		if e.Service.ID != id {
			continue
		}
		for _, c := range e.Checks {
			if c.ServiceID == id {
				return c.Status
			}
		}
	}
	return ""
}

// serveHealth runs a real gRPC server with the standard health service on a free port.
func serveHealth(t *testing.T) (*health.Server, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(server, hs)
	go func() { _ = server.Serve(l) }()
	t.Cleanup(server.Stop)
	return hs, l.Addr().(*net.TCPAddr).Port
}

func setStatus(hs *health.Server) func(bool) {
	return func(serving bool) {
		s := healthpb.HealthCheckResponse_NOT_SERVING
		if serving {
			s = healthpb.HealthCheckResponse_SERVING
		}
		hs.SetServingStatus("", s)
	}
}

// Against a real agent: registered as the TypeScript services register (name, id, address, port, tags,
// version meta, a gRPC check), passing once the agent's check has run; critical while the server itself
// answers NOT_SERVING; out of the agent when Self follows NOT_SERVING; back on SERVING; gone on Withdraw.
func TestConsulRegistrationIsHealthCheckedOverGRPCAndFollowsNotServing(t *testing.T) {
	addr := consultest.Start(t)
	hs, port := serveHealth(t)
	backend, err := NewConsul(addr, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	inst := NewInstance("loyalty", "127.0.0.1", port)
	ctx := context.Background()
	self, err := RegisterSelf(ctx, backend, inst, setStatus(hs), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = self.Withdraw(context.Background()) })

	natstest.Eventually(t, 30*time.Second, "the agent to list the instance passing", func() bool {
		return len(consultest.Health(t, addr, "loyalty", true)) == 1
	})
	got := consultest.Health(t, addr, "loyalty", true)[0].Service
	if got.ID != inst.ID || got.Service != "loyalty" || got.Address != "127.0.0.1" || got.Port != port ||
		!slices.Equal(got.Tags, []string{"grpc"}) || got.Meta["version"] != "0.1.0" {
		t.Fatalf("the agent lists %+v; want the instance %+v with meta version 0.1.0", got, inst)
	}

	// The server's own health, behind Self's back: the agent's gRPC check sees it and turns critical.
	setStatus(hs)(false)
	natstest.Eventually(t, 30*time.Second, "the check to turn critical", func() bool {
		return serviceCheck(t, addr, "loyalty", inst.ID) == "critical"
	})
	if passing := consultest.Health(t, addr, "loyalty", true); len(passing) != 0 {
		t.Fatalf("a critical instance is still passing: %+v", passing)
	}
	setStatus(hs)(true)
	natstest.Eventually(t, 30*time.Second, "the check to pass again", func() bool {
		return serviceCheck(t, addr, "loyalty", inst.ID) == "passing"
	})

	// Through Self: NOT_SERVING takes the instance out at once, without waiting for a check.
	self.SetServing(false)
	if entries := consultest.Health(t, addr, "loyalty", false); len(entries) != 0 {
		t.Fatalf("NOT_SERVING left the instance in the agent: %+v", entries)
	}
	self.SetServing(true)
	natstest.Eventually(t, 30*time.Second, "the instance to pass again after SERVING", func() bool {
		return len(consultest.Health(t, addr, "loyalty", true)) == 1
	})

	if err := self.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if entries := consultest.Health(t, addr, "loyalty", false); len(entries) != 0 {
		t.Fatalf("Withdraw left the instance in the agent: %+v", entries)
	}
}

func TestConsulAddressMustBeHostPortOrAnHTTPURL(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8500", "http://consul:8500", "https://consul.example:8501"} {
		if _, err := NewConsul(ok, quietLog()); err != nil {
			t.Errorf("NewConsul(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ftp://consul:21", "http://"} {
		if _, err := NewConsul(bad, quietLog()); err == nil {
			t.Errorf("NewConsul(%q) accepted it", bad)
		}
	}
}
