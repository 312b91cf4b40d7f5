package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Where make up's mesh listens (packages/platform/src/roster.ts, scripts/up.ts): the defaults of the addresses.
const (
	defaultOrderAddr   = "127.0.0.1:50051"
	defaultKitchenAddr = "127.0.0.1:50053"
	defaultNatsURL     = "nats://127.0.0.1:4222"
	// defaultCallTimeout bounds each unary call.
	defaultCallTimeout = 10 * time.Second
)

// newFlagSet is a command's flag set: errors come back to the caller, nothing is printed by the flag package.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ftgo "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseArgs parses flags and positional arguments in any order (`watch o-1 --timeout 5s` as well as
// `watch --timeout 5s o-1`); `--` ends the flags. It returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usagef("%s", err.Error())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// addrFlag registers a service address flag whose default comes from the environment variable env, then
// from make up's default.
func addrFlag(fs *flag.FlagSet, name, env, fallback, what string, getenv func(string) string) *string {
	value := getenv(env)
	if value == "" {
		value = fallback
	}
	return fs.String(name, value, fmt.Sprintf("%s (env %s)", what, env))
}

// timeoutFlag registers --timeout, the bound of each unary call.
func timeoutFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("timeout", defaultCallTimeout, "how long one call may take")
}

// positiveDuration checks a duration flag's value.
func positiveDuration(name string, d time.Duration) error {
	if d <= 0 {
		return usagef("--%s must be positive, not %s", name, d)
	}
	return nil
}

// parseOneID parses a command line that names one id (`ftgo menu r-1`) besides its flags.
func parseOneID(fs *flag.FlagSet, args []string, what, example string) (string, error) {
	rest, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 {
		return "", usagef("want one %s, e.g. `%s`, got %d arguments", what, example, len(rest))
	}
	if err := checkID(what, rest[0]); err != nil {
		return "", err
	}
	return rest[0], nil
}
