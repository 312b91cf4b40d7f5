// Command menu-server serves KitchenService.GetMenu from Kitchen Service's seed menus over gRPC (with
// health and reflection): the Go side of the language benchmark, `npm run bench -- polyglot`.
//
//	menu-server -addr 127.0.0.1:50099
//
// It stops gracefully on SIGTERM or SIGINT: health turns NOT_SERVING, calls in flight finish.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/menuserver"
	"google.golang.org/grpc"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "menu-server: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("menu-server", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:50099", "host:port to listen on (port 0: any free port)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	menus, err := menuserver.NewMenus()
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	server, health := menuserver.NewServer(menus)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		health.Shutdown()
		server.GracefulStop()
	}()
	fmt.Printf("menu-server listening on %s\n", listener.Addr())
	if err := server.Serve(listener); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
