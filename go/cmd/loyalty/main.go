// Command loyalty is the Loyalty service: it rewards consumers for approved orders (proto/ftgo/loyalty/v1)
// and joins the ftgo mesh like the TypeScript services do. Configuration comes from the environment
// (see internal/config); SIGTERM or SIGINT stops it gracefully. `loyalty -subscriptions` prints the message
// types it consumes, one per line, and exits: the AsyncAPI document's test compares them with what it declares.
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/app"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/config"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/logging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/loyalty"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/telemetry"
)

func main() {
	subscriptions := flag.Bool("subscriptions", false, "print the message types it consumes, one per line, and exit")
	flag.Parse()
	if *subscriptions {
		for _, name := range slices.Sorted(maps.Keys(loyalty.EventHandlers(nil, nil))) {
			fmt.Println(name)
		}
		return
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		logging.Fatal(logging.New(config.Service, "info"), "loyalty did not start: "+err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := logging.New(cfg.Service, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Traces to OTEL_EXPORTER_OTLP_ENDPOINT when it is set; flushed last, after the service has stopped.
	shutdownTracing, err := telemetry.Start(ctx, cfg.Service, os.LookupEnv)
	if err != nil {
		logging.Fatal(log, "loyalty did not start: tracing: "+err.Error())
		os.Exit(1)
	}
	defer func() { _ = shutdownTracing(context.Background()) }()
	if err := app.Run(ctx, cfg, log); err != nil {
		logging.Fatal(log, "loyalty stopped", "err", err)
		stop()
		os.Exit(1)
	}
	log.Info("loyalty stopped")
}
