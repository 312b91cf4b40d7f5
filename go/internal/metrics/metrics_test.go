package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	response, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, response.StatusCode)
	}
	return string(body)
}

func TestServesTheSameSeriesAsTheTypeScriptServices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, err := Serve(ctx, "127.0.0.1", 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/ftgo.loyalty.v1.LoyaltyService/GetAccount"}
	notFound := func(context.Context, any) (any, error) { return nil, status.Error(codes.NotFound, "no account") }
	for range 2 {
		_, _ = UnaryServerInterceptor(ctx, nil, info, notFound)
	}
	Consumed("ftgo.order.event.order_approved", 1)
	Consumed("ftgo.order.event.order_approved", 2)

	text := scrape(t, url)
	for _, want := range []string{
		`rpc_server_duration_seconds_count{code="NOT_FOUND",method="GetAccount",service="ftgo.loyalty.v1.LoyaltyService"} 2`,
		`ftgo_messages_consumed_total{channel="ftgo.order.event.order_approved"} 2`,
		`ftgo_messages_redelivered_total{channel="ftgo.order.event.order_approved"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestCodeNamesAreGRPCs(t *testing.T) {
	for camel, want := range map[string]string{"OK": "OK", "NotFound": "NOT_FOUND", "DeadlineExceeded": "DEADLINE_EXCEEDED"} {
		if got := strings.ToUpper(codeName(camel)); got != want {
			t.Errorf("codeName(%q) = %q, want %q", camel, got, want)
		}
	}
}
