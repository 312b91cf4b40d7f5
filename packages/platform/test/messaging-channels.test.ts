import { CreditCardAuthorizedSchema } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { CourierQuoteRequestSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, nanos } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  DEFAULT_PARTITIONS,
  domainOf,
  ensureEventStream,
  eventName,
  eventStreamName,
  eventSubject,
  isChannelSubject,
  parseChannelSubject,
  partitionFilter,
  partitionOf,
  requestSubject,
  streamName,
} from "../src/messaging/channels.js";

describe("partitionOf", () => {
  it("is FNV-1a 32-bit of the key's UTF-8 bytes (reference values)", () => {
    // With 2^32 partitions the partition is the hash itself.
    expect(partitionOf("", 2 ** 32)).toBe(0x811c9dc5);
    expect(partitionOf("a", 2 ** 32)).toBe(0xe40c292c);
    expect(partitionOf("foobar", 2 ** 32)).toBe(0xbf9cf968);
  });

  it("puts every key in a partition from 0 to partitions - 1, the same one every time", () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `order-${i}`);
    const partitions = keys.map((key) => partitionOf(key, DEFAULT_PARTITIONS));

    expect(new Set(partitions)).toEqual(new Set([0, 1, 2, 3]));
    expect(keys.map((key) => partitionOf(key, DEFAULT_PARTITIONS))).toEqual(partitions);
  });

  it("refuses a partition count below one", () => {
    expect(() => partitionOf("order-1", 0)).toThrow(RangeError);
  });
});

describe("event channels", () => {
  it("names an event's subject ftgo.<domain>.event.<event_name>.<partition>", () => {
    expect(eventSubject(OrderCreatedSchema, 2)).toBe("ftgo.order.event.order_created.2");
    expect(eventSubject(CreditCardAuthorizedSchema, 0)).toBe("ftgo.accounting.event.credit_card_authorized.0");
  });

  it("takes the domain from the type name and the event name from the message name", () => {
    expect(domainOf("ftgo.kitchen.v1.TicketCreated")).toBe("kitchen");
    expect(eventName(CreditCardAuthorizedSchema)).toBe("credit_card_authorized");
    expect(() => domainOf("google.protobuf.Empty")).toThrow("not an ftgo message type");
  });

  it("keeps one stream per publishing domain, and one filter per partition", () => {
    expect(eventStreamName("order")).toBe("FTGO_ORDER_EVENTS");
    expect(partitionFilter("order", 3)).toBe("ftgo.order.event.*.3");
    expect(() => eventStreamName("Order Events")).toThrow("not a domain name");
  });
});

describe("request channels", () => {
  it("names a request's subject ftgo.<domain>.request.<name>, with no partition", () => {
    expect(requestSubject(CourierQuoteRequestSchema)).toBe("ftgo.delivery.request.courier_quote_request");
  });

  it("lies outside every stream of its domain, so JetStream never stores a request or answers it", () => {
    const subject = requestSubject(CourierQuoteRequestSchema);
    for (const kind of ["event", "command", "reply"] as const) {
      expect(subject.startsWith(`ftgo.delivery.${kind}.`), streamName("delivery", kind)).toBe(false);
    }
  });
});

describe("parseChannelSubject", () => {
  it("takes apart the subject of one partition of a channel", () => {
    expect(parseChannelSubject("ftgo.kitchen.command.create_ticket.1")).toEqual({
      domain: "kitchen",
      kind: "command",
      name: "create_ticket",
      partition: 1,
    });
    expect(isChannelSubject(eventSubject(OrderCreatedSchema, 3))).toBe(true);
  });

  it("refuses anything else: API subjects, wildcards, requests, missing or extra tokens", () => {
    for (const subject of [
      "$JS.API.STREAM.PURGE.FTGO_DEAD_LETTERS",
      "ftgo.order.event.>",
      "ftgo.order.event.*.1",
      "ftgo.order.event.order_created",
      "ftgo.order.event.order_created.1.2",
      "ftgo.order.request.order_created.1",
      "ftgo.deadletter.kitchen",
      "ftgo.Order.event.order_created.1",
      "ftgo.order.event.order_created.-1",
      "",
    ]) {
      expect(isChannelSubject(subject), subject).toBe(false);
    }
  });
});

describe("ensureEventStream", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
  });
  afterAll(() => nc.close());

  it("creates the domain's stream: file storage, 2 min duplicate window, 7 days of history", async () => {
    await ensureEventStream(nc, "order");

    const { config } = await (await jetstreamManager(nc)).streams.info("FTGO_ORDER_EVENTS");
    expect(config.subjects).toEqual(["ftgo.order.event.>"]);
    expect(config.storage).toBe("file");
    expect(config.duplicate_window).toBe(nanos(2 * 60_000));
    expect(config.max_age).toBe(nanos(7 * 24 * 60 * 60_000));
  });

  it("succeeds when several instances ensure the same stream at once", async () => {
    await expect(Promise.all([1, 2, 3].map(() => ensureEventStream(nc, "kitchen")))).resolves.toHaveLength(3);
  });

  it("brings a stream that exists with other settings up to date", async () => {
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(nc, "consumer");
    await jsm.streams.update("FTGO_CONSUMER_EVENTS", { max_age: nanos(60 * 60_000) });

    await ensureEventStream(nc, "consumer");

    expect((await jsm.streams.info("FTGO_CONSUMER_EVENTS")).config.max_age).toBe(nanos(7 * 24 * 60 * 60_000));
  });
});
