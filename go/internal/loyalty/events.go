package loyalty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"buf.build/go/protovalidate"
	orderv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/messaging"
)

// EventHandlers are the Order events Loyalty listens to, by type name. Order publishes all four in both
// saga modes (services/order/src/steps.ts ends both): OrderCreated gives the consumer and the total,
// OrderApproved earns, OrderRejected earns nothing, OrderCancelled takes back what was earned.
func EventHandlers(store *Store, log *slog.Logger) map[string]messaging.Handler {
	return map[string]messaging.Handler{
		name(&orderv1.OrderCreated{}): handle(store, log, func(e *orderv1.OrderCreated) (string, Fact) {
			return e.GetOrderId(), Created(e.GetConsumerId(), PointsFor(e.GetTotal()))
		}),
		name(&orderv1.OrderApproved{}): handle(store, log, func(e *orderv1.OrderApproved) (string, Fact) {
			return e.GetOrderId(), Approved
		}),
		name(&orderv1.OrderRejected{}): handle(store, log, func(e *orderv1.OrderRejected) (string, Fact) {
			return e.GetOrderId(), Rejected
		}),
		name(&orderv1.OrderCancelled{}): handle(store, log, func(e *orderv1.OrderCancelled) (string, Fact) {
			return e.GetOrderId(), Cancelled
		}),
	}
}

func name(m proto.Message) string { return string(proto.MessageName(m)) }

// handle decodes and checks a body as T, then records its fact once. A body that does not decode or
// breaks its contract's limits would fail the same way on every redelivery: it is malformed.
func handle[T any, PT interface {
	*T
	proto.Message
}](store *Store, log *slog.Logger, fact func(PT) (string, Fact)) messaging.Handler {
	return func(ctx context.Context, env messaging.Envelope, body []byte) error {
		event := PT(new(T))
		if err := proto.Unmarshal(body, event); err != nil {
			return &messaging.MalformedError{Reason: fmt.Sprintf("body is not a valid %s: %v", env.Type, err)}
		}
		if err := protovalidate.Validate(event); err != nil {
			return &messaging.MalformedError{Reason: "breaks its contract: " + Violations(err)}
		}
		orderID, f := fact(event)
		first, err := store.Record(ctx, env, orderID, f)
		if err != nil {
			return err
		}
		if first {
			log.Debug("message handled", "orderId", orderID, "messageId", env.MessageID, "type", env.Type)
		} else {
			log.Debug("duplicate message ignored", "orderId", orderID, "messageId", env.MessageID, "type", env.Type)
		}
		return nil
	}
}

// Violations describes a protovalidate error as the TypeScript services do: one `field: problem` per
// violation, joined by "; ".
func Violations(err error) string {
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return err.Error()
	}
	parts := make([]string, 0, len(verr.Violations))
	for _, v := range verr.Violations {
		parts = append(parts, v.String())
	}
	return strings.Join(parts, "; ")
}
