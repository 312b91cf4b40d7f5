package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func noEnv(string) string { return "" }

func TestParseOrderArgsBuildsAV2Request(t *testing.T) {
	parsed, err := parseOrderArgs([]string{"--consumer", "c-1001", "--restaurant", "r-1", "m-1x2", "m-3",
		"--key", "k-1", "--deliver-at", "2030-01-01T18:30:00Z", "--no-wait"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	req := parsed.request
	if req.GetConsumerId() != "c-1001" || req.GetRestaurantId() != "r-1" || req.GetIdempotencyKey() != "k-1" {
		t.Errorf("request %v", req)
	}
	if len(req.GetLineItems()) != 2 || req.GetLineItems()[0].GetQuantity() != 2 {
		t.Errorf("line items %v", req.GetLineItems())
	}
	if a := req.GetDelivery().GetAddress(); a.GetStreet1() != "1 Main St" || a.GetCity() != "Oakland" || a.GetPostalCode() != "94611" {
		t.Errorf("address %v", a)
	}
	if req.GetDelivery().GetDeliverAt().AsTime() != time.Date(2030, 1, 1, 18, 30, 0, 0, time.UTC) {
		t.Errorf("deliver at %v", req.GetDelivery().GetDeliverAt())
	}
	if parsed.wait || parsed.addr != defaultOrderAddr || parsed.timeout != defaultCallTimeout {
		t.Errorf("parsed %+v", parsed)
	}
}

func TestParseOrderArgsGivesEachOrderANewKey(t *testing.T) {
	args := []string{"--consumer", "c-1001", "--restaurant", "r-1", "m-1"}
	a, errA := parseOrderArgs(args, noEnv)
	b, errB := parseOrderArgs(args, noEnv)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	ka, kb := a.request.GetIdempotencyKey(), b.request.GetIdempotencyKey()
	if ka == kb || len(ka) != 36 || checkID("key", ka) != nil {
		t.Errorf("keys %q and %q", ka, kb)
	}
	if !a.wait {
		t.Error("order waits for the outcome by default")
	}
}

func TestAddressesComeFromFlagsThenEnvThenDefaults(t *testing.T) {
	env := func(name string) string {
		return map[string]string{"FTGO_ORDER_ADDR": "10.0.0.1:1"}[name]
	}
	base := []string{"--consumer", "c-1", "--restaurant", "r-1", "m-1"}
	fromEnv, _ := parseOrderArgs(base, env)
	fromFlag, _ := parseOrderArgs(append([]string{"--order-addr", "10.0.0.2:2"}, base...), env)
	if fromEnv.addr != "10.0.0.1:1" || fromFlag.addr != "10.0.0.2:2" {
		t.Errorf("env %q, flag %q", fromEnv.addr, fromFlag.addr)
	}
}

func TestParseOrderArgsRefusesBadInput(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no consumer":    {[]string{"--restaurant", "r-1", "m-1"}, "--consumer and --restaurant are required"},
		"bad consumer":   {[]string{"--consumer", "c 1", "--restaurant", "r-1", "m-1"}, `--consumer "c 1" may hold only`},
		"no items":       {[]string{"--consumer", "c-1", "--restaurant", "r-1"}, "name at least one item"},
		"bad deliver-at": {[]string{"--consumer", "c-1", "--restaurant", "r-1", "--deliver-at", "tomorrow", "m-1"}, "not an RFC 3339 time"},
		"empty city":     {[]string{"--consumer", "c-1", "--restaurant", "r-1", "--city", "", "m-1"}, "--city must not be empty"},
		"bad timeout":    {[]string{"--consumer", "c-1", "--restaurant", "r-1", "--timeout", "0s", "m-1"}, "--timeout must be positive"},
		"unknown flag":   {[]string{"--consumer", "c-1", "--restaurant", "r-1", "--colour", "m-1"}, "flag provided but not defined: -colour"},
		"bad flag value": {[]string{"--consumer", "c-1", "--restaurant", "r-1", "--timeout", "soon", "m-1"}, `invalid value "soon"`},
		"bad key":        {[]string{"--consumer", "c-1", "--restaurant", "r-1", "--key", "a b", "m-1"}, `--key "a b"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseOrderArgs(c.args, noEnv)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseEventsArgsPicksWhereToStart(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	def, err := parseEventsArgs(nil, noEnv, now)
	if err != nil {
		t.Fatal(err)
	}
	if def.start.DeliverPolicy != jetstream.DeliverByStartTimePolicy || !def.start.OptStartTime.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("default start %+v", def.start)
	}
	all, _ := parseEventsArgs([]string{"--all", "--count", "3", "--order", "o-1"}, noEnv, now)
	if all.start.DeliverPolicy != jetstream.DeliverAllPolicy || all.count != 3 || all.orderID != "o-1" {
		t.Errorf("--all %+v", all)
	}
	fresh, _ := parseEventsArgs([]string{"--new"}, noEnv, now)
	if fresh.start.DeliverPolicy != jetstream.DeliverNewPolicy {
		t.Errorf("--new %+v", fresh.start)
	}
	since, _ := parseEventsArgs([]string{"--since", "1h"}, func(string) string { return "nats://h:1" }, now)
	if !since.start.OptStartTime.Equal(now.Add(-time.Hour)) || since.url != "nats://h:1" {
		t.Errorf("--since %+v", since)
	}
	for _, bad := range [][]string{{"--all", "--new"}, {"--since", "1h", "--all"}, {"--count", "-1"}, {"--since", "-5m"}, {"extra"}} {
		if _, err := parseEventsArgs(bad, noEnv, now); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"help"}, ExitOK, "usage: ftgo <command>", ""},
		{[]string{"-h"}, ExitOK, "usage: ftgo <command>", ""},
		{[]string{"help", "order"}, ExitOK, "usage: ftgo order", ""},
		{[]string{"menu", "-h"}, ExitOK, "usage: ftgo menu", ""},
		{nil, ExitUsage, "", "usage: ftgo <command>"},
		{[]string{"bake"}, ExitUsage, "", "ftgo: unknown command \"bake\"\n\nusage: ftgo <command>"},
		{[]string{"menu"}, ExitUsage, "", "ftgo menu: want one restaurant id"},
		{[]string{"watch", "o-1", "o-2"}, ExitUsage, "", "ftgo watch: want one order id"},
		{[]string{"order", "--consumer", "c-1001", "--restaurant", "r-1", "m-1x0"}, ExitUsage, "",
			"ftgo order: item \"m-1x0\": the quantity must be 1 to 100, not 0\n\nusage: ftgo order"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), c.args, IO{Stdout: &stdout, Stderr: &stderr, Getenv: noEnv})
		if code != c.code || !strings.HasPrefix(stdout.String(), c.stdout) || !strings.HasPrefix(stderr.String(), c.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, stdout.String(), stderr.String())
		}
		if c.stdout == "" && stdout.Len() > 0 {
			t.Errorf("%v: unexpected stdout %q", c.args, stdout.String())
		}
	}
}

func TestDialAcceptsTheRetryPolicy(t *testing.T) {
	conn, err := dial("127.0.0.1:1", noEnv) // grpc.NewClient parses the service config, and fails on a bad one
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
}
