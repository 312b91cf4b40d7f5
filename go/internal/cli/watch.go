package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	orderv2 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v2"
)

const watchUsage = `usage: ftgo watch [flags] <order-id>

Follows an order (OrderService v2 WatchOrder): prints its state now, then each change, one line each, and
exits 0 once the saga is over: APPROVED, REJECTED or CANCELLED (with --follow: REJECTED or CANCELLED only,
as an APPROVED order may still be cancelled). Ctrl-C stops it earlier.

flags:
  --order-addr HOST:PORT  Order Service (env FTGO_ORDER_ADDR; default 127.0.0.1:50051)
  --follow                keep watching an APPROVED order until it is cancelled
`

func runWatch(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("watch")
	addr := addrFlag(fs, "order-addr", "FTGO_ORDER_ADDR", defaultOrderAddr, "Order Service", io.Getenv)
	follow := fs.Bool("follow", false, "keep watching an APPROVED order")
	orderID, err := parseOneID(fs, args, "order id", "ftgo watch <order-id>")
	if err != nil {
		return err
	}
	conn, err := dial(*addr, io.Getenv)
	if err != nil {
		return err
	}
	defer conn.Close()
	until := sagaOver
	if *follow {
		until = neverChangesAgain
	}
	_, err = watchOrder(ctx, orderv2.NewOrderServiceClient(conn), orderID, until, io.Stdout)
	return err
}

// sagaOver: no saga of the order is running; what watch and order wait for.
func sagaOver(s orderv2.OrderState) bool {
	return s == orderv2.OrderState_ORDER_STATE_APPROVED || neverChangesAgain(s)
}

// neverChangesAgain: the order's final states (Order Service ends WatchOrder there).
func neverChangesAgain(s orderv2.OrderState) bool {
	return s == orderv2.OrderState_ORDER_STATE_REJECTED || s == orderv2.OrderState_ORDER_STATE_CANCELLED
}

// watchOrder prints a line for each state the order goes through until `until` holds, and returns the
// order as it was then. A stream that ends earlier, or breaks, is an error naming the last state seen.
func watchOrder(ctx context.Context, client orderv2.OrderServiceClient, orderID string,
	until func(orderv2.OrderState) bool, w io.Writer) (*orderv2.Order, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when we stop reading it
	what := "watch order " + orderID
	stream, err := client.WatchOrder(ctx, &orderv2.WatchOrderRequest{OrderId: orderID})
	if err != nil {
		return nil, callFailed(what, err)
	}
	var last *orderv2.Order
	for {
		res, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if last != nil && until(last.GetState()) {
				return last, nil
			}
			return last, fmt.Errorf("%s: the stream ended at %s", what, stateName(last.GetState()))
		}
		if err != nil {
			return last, callFailed(what, err)
		}
		order := res.GetOrder()
		if last == nil || order.GetState() != last.GetState() {
			fmt.Fprintln(w, stateLine(order))
		}
		last = order
		if until(order.GetState()) {
			return order, nil
		}
	}
}

// stateLine is one line of watch: when the order got to its state (server time), the state, and why,
// when it says.
func stateLine(o *orderv2.Order) string {
	at := "--:--:--.---"
	if t := o.GetUpdateTime(); t != nil {
		at = t.AsTime().Local().Format("15:04:05.000")
	}
	line := fmt.Sprintf("%s  %s  %s", at, o.GetOrderId(), stateName(o.GetState()))
	if reason := orderReason(o); reason != "" {
		line += ": " + reason
	}
	return line
}

// stateName is a state without its enum prefix: APPROVED.
func stateName(s orderv2.OrderState) string {
	return strings.TrimPrefix(s.String(), "ORDER_STATE_")
}

// orderReason is why the order is where it is, when the order says.
func orderReason(o *orderv2.Order) string {
	switch {
	case o.GetRejectionReason() != "":
		return o.GetRejectionReason()
	case o.GetCancelRefusalReason() != "":
		return "cancel refused: " + o.GetCancelRefusalReason()
	}
	return ""
}
