import { CreditCardAuthorizedSchema } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import {
  decodeBody,
  encodeBody,
  envelopeHeaders,
  MalformedMessageError,
  MessageHeader,
  readEnvelope,
  toNatsHeaders,
} from "../src/messaging/envelope.js";

const ENVELOPE = {
  messageId: "0b7e8c1e-6f5b-4c55-9f9a-1b0e3c1d2e3f",
  type: "ftgo.order.v1.OrderCreated",
  correlationId: "order-1",
  causationId: "7c1d2e3f-0000-4000-8000-000000000001",
  requestId: "req-1",
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
};

describe("message envelope", () => {
  it("carries every header from sender to receiver", () => {
    const sent = toNatsHeaders(envelopeHeaders(ENVELOPE));

    expect(sent.get("Ftgo-Message-Id")).toBe(ENVELOPE.messageId);
    expect(sent.get("Ftgo-Type")).toBe("ftgo.order.v1.OrderCreated");
    expect(sent.get("Ftgo-Correlation-Id")).toBe("order-1");
    expect(sent.get("Ftgo-Causation-Id")).toBe(ENVELOPE.causationId);
    expect(sent.get("X-Request-Id")).toBe("req-1");
    expect(sent.get("traceparent")).toBe(ENVELOPE.traceparent);
    expect(sent.get("Content-Type")).toBe("application/x-protobuf");
    expect(readEnvelope(sent)).toEqual(ENVELOPE);
  });

  it("leaves optional headers out when unknown, and reads them back as undefined", () => {
    const first = { messageId: "m-1", type: "ftgo.order.v1.OrderCreated", correlationId: "order-1" };
    const sent = toNatsHeaders(envelopeHeaders(first));

    expect(sent.has(MessageHeader.CausationId)).toBe(false);
    expect(readEnvelope(sent)).toEqual({
      ...first,
      causationId: undefined,
      requestId: undefined,
      traceparent: undefined,
    });
  });

  it("leaves Nats-Msg-Id to the relay", () => {
    expect(envelopeHeaders(ENVELOPE)).not.toHaveProperty(MessageHeader.NatsMsgId);
  });

  it.each([MessageHeader.MessageId, MessageHeader.Type, MessageHeader.CorrelationId, MessageHeader.ContentType])(
    "rejects a message without %s as malformed",
    (name) => {
      const received = toNatsHeaders(envelopeHeaders(ENVELOPE));
      received.delete(name);

      expect(() => readEnvelope(received)).toThrow(MalformedMessageError);
      expect(() => readEnvelope(received)).toThrow(name);
    },
  );

  it("rejects a message without headers, or with a body that is not protobuf", () => {
    const json = headers();
    for (const [name, value] of Object.entries(envelopeHeaders(ENVELOPE))) json.set(name, value);
    json.set(MessageHeader.ContentType, "application/json");

    expect(() => readEnvelope(undefined)).toThrow(MalformedMessageError);
    expect(() => readEnvelope(json)).toThrow("unexpected Content-Type application/json");
  });
});

describe("message body", () => {
  it("round-trips a protobuf message", () => {
    const body = encodeBody(CreditCardAuthorizedSchema, { orderId: "order-1", consumerId: "c-1" });

    const message = decodeBody(CreditCardAuthorizedSchema, body);

    expect(message.orderId).toBe("order-1");
    expect(message.consumerId).toBe("c-1");
  });

  it("rejects bytes that are not the message as malformed, naming the type", () => {
    const garbage = new TextEncoder().encode("not protobuf");

    expect(() => decodeBody(OrderCreatedSchema, garbage)).toThrow(MalformedMessageError);
    expect(() => decodeBody(OrderCreatedSchema, garbage)).toThrow("body is not a valid ftgo.order.v1.OrderCreated");
  });
});
