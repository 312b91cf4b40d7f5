package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The contract's messages, imported for their registration in protoregistry.GlobalTypes: a message's
	// Ftgo-Type header names its type (ftgo.order.v1.OrderCreated), which is looked up there to decode it.
	_ "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/accounting/v1"
	_ "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/consumer/v1"
	_ "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/delivery/v1"
	_ "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
	_ "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
	_ "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v1"
)

// The message headers of packages/platform/src/messaging/envelope.ts that decoding needs.
const (
	headerType          = "Ftgo-Type"
	headerCorrelationID = "Ftgo-Correlation-Id"
	headerContentType   = "Content-Type"
	protobufContentType = "application/x-protobuf"
)

// decodeBody decodes a message body as the protobuf type its Ftgo-Type header names and shows it as
// protojson on one line (compacted: protojson's own spacing is deliberately unstable).
func decodeBody(typeName, contentType string, body []byte) (string, error) {
	if contentType != protobufContentType {
		return "", fmt.Errorf("content type %q is not %s", contentType, protobufContentType)
	}
	if typeName == "" {
		return "", fmt.Errorf("no %s header", headerType)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typeName))
	if err != nil {
		return "", fmt.Errorf("type %s is not in the contract this ftgo was built with", typeName)
	}
	msg := mt.New().Interface()
	if err := proto.Unmarshal(body, msg); err != nil {
		return "", fmt.Errorf("body is not a valid %s: %w", typeName, err)
	}
	text, err := protojson.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("show %s as JSON: %w", typeName, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		return "", fmt.Errorf("show %s as JSON: %w", typeName, err)
	}
	return compact.String(), nil
}
