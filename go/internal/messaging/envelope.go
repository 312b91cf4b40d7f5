// Package messaging speaks the mesh's messaging conventions from Go: the envelope headers
// (packages/platform/src/messaging/envelope.ts), channel subjects and partitions (channels.ts), partition
// durables that compete for one message at a time (consumer.ts), dead letters (dead-letters.ts), and the
// transactional outbox with its relay (outbox.ts, relay.ts). A TypeScript service cannot tell a Go
// participant's messages from its own.
package messaging

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// Header names of an ftgo message.
const (
	HeaderNatsMsgID     = "Nats-Msg-Id"
	HeaderMessageID     = "Ftgo-Message-Id"
	HeaderType          = "Ftgo-Type"
	HeaderCorrelationID = "Ftgo-Correlation-Id"
	HeaderCausationID   = "Ftgo-Causation-Id"
	HeaderReplyTo       = "Ftgo-Reply-To"
	HeaderRequestID     = "X-Request-Id"
	HeaderTraceParent   = "traceparent"
	HeaderContentType   = "Content-Type"
	// ProtobufContentType is the only body encoding: protobuf binary.
	ProtobufContentType = "application/x-protobuf"
)

// Envelope is what a message's header says about it.
type Envelope struct {
	MessageID     string
	Type          string
	CorrelationID string
	CausationID   string
	RequestID     string
	TraceParent   string
}

// MalformedError marks a message that can never be handled, however often it is retried: it goes to
// the dead letters at once.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return "malformed message: " + e.Reason }

// ReadEnvelope reads the envelope of a received message, as readEnvelope does in TypeScript: a missing
// required header or a content type other than protobuf is a *MalformedError.
func ReadEnvelope(h nats.Header) (Envelope, error) {
	var missing error
	required := func(name string) string {
		v := h.Get(name)
		if v == "" && missing == nil {
			missing = &MalformedError{Reason: "missing header " + name}
		}
		return v
	}
	contentType := required(HeaderContentType)
	if missing != nil {
		return Envelope{}, missing
	}
	if contentType != ProtobufContentType {
		return Envelope{}, &MalformedError{Reason: fmt.Sprintf("unexpected %s %s", HeaderContentType, contentType)}
	}
	env := Envelope{
		MessageID:     required(HeaderMessageID),
		Type:          required(HeaderType),
		CorrelationID: required(HeaderCorrelationID),
		CausationID:   h.Get(HeaderCausationID),
		RequestID:     h.Get(HeaderRequestID),
		TraceParent:   h.Get(HeaderTraceParent),
	}
	if missing != nil {
		return Envelope{}, missing
	}
	return env, nil
}

// Headers is the envelope as the header record the outbox stores and the relay sends (without
// Nats-Msg-Id, which the relay adds).
func (e Envelope) Headers() map[string]string {
	h := map[string]string{
		HeaderMessageID:     e.MessageID,
		HeaderType:          e.Type,
		HeaderCorrelationID: e.CorrelationID,
		HeaderContentType:   ProtobufContentType,
	}
	for name, value := range map[string]string{
		HeaderCausationID: e.CausationID, HeaderRequestID: e.RequestID, HeaderTraceParent: e.TraceParent,
	} {
		if value != "" {
			h[name] = value
		}
	}
	return h
}
