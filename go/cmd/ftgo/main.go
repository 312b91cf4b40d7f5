// Command ftgo is a command-line client of the ftgo-mesh, written in Go against nothing but the contract
// (gen/go) plus grpc-go and nats.go: it lists a menu, places an order, watches it and tails the saga's
// messages. Run `ftgo help` for the commands; the work is in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.IO{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
