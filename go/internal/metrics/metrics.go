// Package metrics is the Loyalty service's side of the mesh's metrics (packages/platform/src/telemetry/metrics.ts
// is the TypeScript side): the same names, labels and buckets, so that one Prometheus query covers both
// languages. prometheus/client_golang, on a registry of its own, served at GET /metrics on METRICS_PORT.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// latencyBuckets are metrics.ts's LATENCY_BUCKETS, in seconds.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Registry holds every metric below and the Go runtime's and process's own.
var Registry = prometheus.NewRegistry()

var (
	rpcServerDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rpc_server_duration_seconds",
		Help:    "gRPC calls this process served: duration by service, method and status code",
		Buckets: latencyBuckets,
	}, []string{"service", "method", "code"})
	consumed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ftgo_messages_consumed_total",
		Help: "Messages handled (committed and acknowledged) by this process's consumers, by channel",
	}, []string{"channel"})
	redelivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ftgo_messages_redelivered_total",
		Help: "Deliveries of a message that had been delivered before (a failed attempt, a lost ack), by channel",
	}, []string{"channel"})
	deadLettered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ftgo_messages_dead_lettered_total",
		Help: "Messages moved to the dead letters, by channel",
	}, []string{"channel"})
	publishLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ftgo_outbox_publish_lag_seconds",
		Help:    "From an outbox row's commit to JetStream's acknowledgement of its publish",
		Buckets: latencyBuckets,
	})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		rpcServerDuration, consumed, redelivered, deadLettered, publishLag,
	)
}

// Consumed counts a message of `channel` handled and acknowledged; a redelivery too when it had come before.
func Consumed(channel string, deliveries int) {
	consumed.WithLabelValues(channel).Inc()
	if deliveries > 1 {
		redelivered.WithLabelValues(channel).Inc()
	}
}

// DeadLettered counts a message of `channel` moved to the dead letters.
func DeadLettered(channel string) { deadLettered.WithLabelValues(channel).Inc() }

// Published records an outbox row's commit → publish lag.
func Published(committedAt time.Time) { publishLag.Observe(time.Since(committedAt).Seconds()) }

// Outbox registers the outbox's backlog gauges, read when Prometheus scrapes: its unpublished rows, and the
// age of the oldest of them in seconds.
func Outbox(pending func() (rows int, oldest time.Duration)) {
	Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ftgo_outbox_pending_rows", Help: "Outbox rows not yet published"},
			func() float64 { rows, _ := pending(); return float64(rows) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ftgo_outbox_oldest_pending_age_seconds",
			Help: "Age of the oldest outbox row not yet published: how far behind the broker the outbox is",
		}, func() float64 { _, oldest := pending(); return oldest.Seconds() }),
	)
}

// UnaryServerInterceptor times every unary call by service, method and gRPC code name (OK, NOT_FOUND, …).
func UnaryServerInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	started := time.Now()
	resp, err := handler(ctx, req)
	service, method := splitMethod(info.FullMethod)
	code := "CANCELLED" // gRPC's spelling; grpc-go's String() says Canceled
	if c := status.Code(err); c != codes.Canceled {
		code = strings.ToUpper(codeName(c.String()))
	}
	rpcServerDuration.WithLabelValues(service, method, code).Observe(time.Since(started).Seconds())
	return resp, err
}

// codeName turns grpc-go's `NotFound` into gRPC's `NOT_FOUND` (and leaves `OK` as it is).
func codeName(camel string) string {
	var b strings.Builder
	var previous rune
	for _, r := range camel {
		if r >= 'A' && r <= 'Z' && previous >= 'a' && previous <= 'z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
		previous = r
	}
	return b.String()
}

// splitMethod: `/ftgo.loyalty.v1.LoyaltyService/GetAccount` → `ftgo.loyalty.v1.LoyaltyService`, `GetAccount`.
func splitMethod(full string) (string, string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

// Serve answers GET /metrics at host:port until ctx ends; a port of 0 picks a free one. It returns the URL.
func Serve(ctx context.Context, host string, port int, log *slog.Logger) (string, error) {
	listener, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(Registry, promhttp.HandlerOpts{}))
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = server.Close()
	}()
	url := "http://" + listener.Addr().String() + "/metrics"
	log.Info("metrics served", "url", url)
	return url, nil
}
