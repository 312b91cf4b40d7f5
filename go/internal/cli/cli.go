// Package cli is the ftgo command-line client: one file per command (menu, order, watch, events), each
// parsing its own flags and arguments before it makes any call, so bad input costs no round trip.
//
// Exit codes: 0 done, 1 a call failed (one line on stderr: `ftgo: <what failed>: <grpc code>: <message>`),
// 2 bad usage (unknown command, bad flag or argument; the usage follows the message).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Exit codes of Run.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	// ExitInterrupted is Ctrl-C (SIGINT) or SIGTERM before the command was done, as shells report it.
	ExitInterrupted = 130
)

// IO is what a command reads and writes besides the network: its output streams and its environment.
type IO struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv; a map lookup in tests).
	Getenv func(string) string
}

// command is one subcommand: its one-line summary and usage, and what runs it.
type command struct {
	summary string
	usage   string
	run     func(ctx context.Context, args []string, io IO) error
}

func commands() map[string]command {
	return map[string]command{
		"menu":   {summary: "a restaurant's menu", usage: menuUsage, run: runMenu},
		"order":  {summary: "place an order and wait for the saga's outcome", usage: orderUsage, run: runOrder},
		"watch":  {summary: "follow an order's state until it is final", usage: watchUsage, run: runWatch},
		"events": {summary: "tail the saga's messages from JetStream, decoded", usage: eventsUsage, run: runEvents},
	}
}

// Usage is what `ftgo help` prints.
const Usage = `usage: ftgo <command> [flags] [arguments]

commands:
  menu <restaurant-id>                         a restaurant's menu (KitchenService.GetMenu)
  order --consumer ID --restaurant ID ITEM...  place an order (OrderService v2 CreateOrder), then wait for
                                               the saga's outcome (WatchOrder); ITEM is m-1 or m-1x2 (quantity 2)
  watch <order-id>                             follow an order's states until it is final (WatchOrder)
  events                                       tail the saga's messages from JetStream, decoded from protobuf
  help [command]                               this text, or a command's flags

addresses (flags of each command, or the environment; make up's defaults):
  --order-addr    FTGO_ORDER_ADDR    127.0.0.1:50051
  --kitchen-addr  FTGO_KITCHEN_ADDR  127.0.0.1:50053
  --nats-url      NATS_URL           nats://127.0.0.1:4222

secure mode (SECURE=1): FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY (all three, e.g. .pki/ca.crt, .pki/admin.crt,
  .pki/admin.key) make every gRPC call mTLS and the NATS connection TLS with that certificate

exit status: 0 done, 1 a call failed (ftgo: <what failed>: <grpc code>: <message>), 2 bad usage
`

// Run runs the command line `args` (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 {
		fmt.Fprint(io.Stderr, Usage)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return help(rest, io)
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(io.Stderr, "ftgo: unknown command %q\n\n%s", name, Usage)
		return ExitUsage
	}
	err := cmd.run(ctx, rest, io)
	var usage *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errHelp):
		fmt.Fprint(io.Stdout, cmd.usage)
		return ExitOK
	case ctx.Err() != nil:
		fmt.Fprintf(io.Stderr, "ftgo %s: interrupted\n", name)
		return ExitInterrupted
	case errors.As(err, &usage):
		fmt.Fprintf(io.Stderr, "ftgo %s: %s\n\n%s", name, usage.msg, cmd.usage)
		return ExitUsage
	default:
		fmt.Fprintf(io.Stderr, "ftgo: %s\n", err)
		return ExitFailure
	}
}

func help(args []string, io IO) int {
	if len(args) == 0 {
		fmt.Fprint(io.Stdout, Usage)
		return ExitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(io.Stderr, "ftgo help: unknown command %q\n\n%s", args[0], Usage)
		return ExitUsage
	}
	fmt.Fprint(io.Stdout, cmd.usage)
	return ExitOK
}

// usageError is bad input: a flag, an argument. Run prints it with the command's usage and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is -h or --help given to a command: its usage on stdout, exit 0.
var errHelp = errors.New("help requested")
