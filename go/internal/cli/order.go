package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
	orderv2 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v2"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const orderUsage = `usage: ftgo order --consumer ID --restaurant ID [flags] ITEM...

Places an order (OrderService v2 CreateOrder) and prints it, then waits for the Create Order saga's outcome
(WatchOrder) and prints each state until APPROVED or REJECTED. ITEM is a menu item id, once (m-3), or with a
quantity of 1 to 100 after an x (m-1x2: two of m-1).

The call carries an idempotency key (a new UUID, or --key): repeating the command with the same --key and
the same order answers with the order the first call created, and creates nothing.

flags:
  --consumer ID           who orders, e.g. c-1001 (required)
  --restaurant ID         where, e.g. r-1 (required)
  --street TEXT           delivery address: street (default "1 Main St")
  --city TEXT             delivery address: city (default "Oakland")
  --postal-code TEXT      delivery address: postal code (default "94611")
  --deliver-at TIME       when to deliver, RFC 3339 (2030-01-01T18:30:00Z); default as soon as possible
  --key KEY               the idempotency key (default: a new UUID)
  --no-wait               print the new order and exit, without waiting for the saga
  --wait-timeout DURATION how long to wait for the outcome (default 60s)
  --order-addr HOST:PORT  Order Service (env FTGO_ORDER_ADDR; default 127.0.0.1:50051)
  --timeout DURATION      how long CreateOrder may take (default 10s)
`

// orderArgs is a parsed `ftgo order` command line.
type orderArgs struct {
	request     *orderv2.CreateOrderRequest
	addr        string
	timeout     time.Duration
	wait        bool
	waitTimeout time.Duration
}

func runOrder(ctx context.Context, args []string, io IO) error {
	parsed, err := parseOrderArgs(args, io.Getenv)
	if err != nil {
		return err
	}
	conn, err := dial(parsed.addr, io.Getenv)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := orderv2.NewOrderServiceClient(conn)

	callCtx, cancel := context.WithTimeout(ctx, parsed.timeout)
	defer cancel()
	res, err := client.CreateOrder(callCtx, parsed.request)
	if err != nil {
		return callFailed("create the order", err)
	}
	order := res.GetOrder()
	if err := writeOrder(io.Stdout, order); err != nil {
		return err
	}
	if !parsed.wait {
		return nil
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, parsed.waitTimeout)
	defer cancelWait()
	_, err = watchOrder(waitCtx, client, order.GetOrderId(), sagaOver, io.Stdout)
	if err != nil && errors.Is(waitCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("order %s: no outcome within %s (ftgo watch %s follows it further)",
			order.GetOrderId(), parsed.waitTimeout, order.GetOrderId())
	}
	return err
}

// parseOrderArgs checks the whole command line and builds the request, before any call.
func parseOrderArgs(args []string, getenv func(string) string) (*orderArgs, error) {
	fs := newFlagSet("order")
	addr := addrFlag(fs, "order-addr", "FTGO_ORDER_ADDR", defaultOrderAddr, "Order Service", getenv)
	timeout := timeoutFlag(fs)
	consumer := fs.String("consumer", "", "who orders")
	restaurant := fs.String("restaurant", "", "where")
	street := fs.String("street", "1 Main St", "delivery street")
	city := fs.String("city", "Oakland", "delivery city")
	postal := fs.String("postal-code", "94611", "delivery postal code")
	deliverAt := fs.String("deliver-at", "", "when to deliver (RFC 3339)")
	key := fs.String("key", "", "idempotency key")
	noWait := fs.Bool("no-wait", false, "do not wait for the saga")
	waitTimeout := fs.Duration("wait-timeout", 60*time.Second, "how long to wait for the outcome")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if *consumer == "" || *restaurant == "" {
		return nil, usagef("--consumer and --restaurant are required, e.g. --consumer c-1001 --restaurant r-1")
	}
	if err := checkID("--consumer", *consumer); err != nil {
		return nil, err
	}
	if err := checkID("--restaurant", *restaurant); err != nil {
		return nil, err
	}
	items, err := parseItems(rest)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"timeout", *timeout}, {"wait-timeout", *waitTimeout}} {
		if err := positiveDuration(d.name, d.value); err != nil {
			return nil, err
		}
	}
	if *key == "" {
		*key = newKey()
	} else if err := checkID("--key", *key); err != nil {
		return nil, err
	}
	delivery, err := parseDelivery(*street, *city, *postal, *deliverAt)
	if err != nil {
		return nil, err
	}
	return &orderArgs{
		request: &orderv2.CreateOrderRequest{
			IdempotencyKey: *key,
			ConsumerId:     *consumer,
			RestaurantId:   *restaurant,
			LineItems:      items,
			Delivery:       delivery,
		},
		addr:        *addr,
		timeout:     *timeout,
		wait:        !*noWait,
		waitTimeout: *waitTimeout,
	}, nil
}

// parseDelivery builds where and when to deliver; the address's parts must not be empty (the contract
// requires them).
func parseDelivery(street, city, postal, deliverAt string) (*orderv2.Delivery, error) {
	for _, part := range []struct{ flag, value string }{{"street", street}, {"city", city}, {"postal-code", postal}} {
		if part.value == "" {
			return nil, usagef("--%s must not be empty", part.flag)
		}
	}
	delivery := &orderv2.Delivery{Address: &commonv1.Address{Street1: street, City: city, PostalCode: postal}}
	if deliverAt != "" {
		at, err := time.Parse(time.RFC3339, deliverAt)
		if err != nil {
			return nil, usagef("--deliver-at %q is not an RFC 3339 time, e.g. 2030-01-01T18:30:00Z", deliverAt)
		}
		delivery.DeliverAt = timestamppb.New(at)
	}
	return delivery, nil
}

// newKey is a random (version 4) UUID, the idempotency key of one CreateOrder.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics in the unlikely event it cannot read)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeOrder prints a new order: its id, state, total and key, then its priced lines.
func writeOrder(w io.Writer, o *orderv2.Order) error {
	fmt.Fprintf(w, "order %s  %s  total %s  (idempotency key %s)\n",
		o.GetOrderId(), stateName(o.GetState()), formatMoney(o.GetTotal()), o.GetIdempotencyKey())
	if o.GetPriceSource() == orderv2.PriceSource_PRICE_SOURCE_LAST_KNOWN_MENU {
		fmt.Fprintln(w, "  priced from the last known menu: Kitchen could not be reached")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, line := range o.GetLineItems() {
		fmt.Fprintf(tw, "  %d × %s\t%s\t%s\n", line.GetQuantity(), line.GetMenuItemId(), line.GetName(),
			formatMoney(line.GetTotal()))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the order: %w", err)
	}
	return nil
}
