// The propagation rules of traces, on real sockets and a real nats-server, with the SDK's in-memory
// exporter: gRPC metadata carries the caller's span to the server; the outbox row keeps the writer's
// context, so the relay's publish continues it even when another relay publishes after a restart; the
// message's headers carry the publish span to the consumer, whose handler's own messages continue it.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { TicketCreatedSchema } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { parentOf, useRecordedSpans } from "@ftgo/harness/recorded-spans.js";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { createGrpcClient, implement } from "../src/grpc/index.js";
import { silentLogger } from "../src/log.js";
import { startConsumers } from "../src/messaging/consumer.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { startOutboxRelay } from "../src/messaging/relay.js";
import { on } from "../src/messaging/subscriptions.js";
import { LATE_AFTER_MS, startProcessSpan } from "../src/telemetry/messaging-spans.js";
import { traceparentOf, tracer } from "../src/telemetry/trace-context.js";
import { waitFor } from "../src/testing/wait.js";
import { fakeKitchen, rejection, useGrpc } from "./grpc-fixtures.js";
import { anOrderCreated } from "./message-fixtures.js";

const log = silentLogger();
const recorded = useRecordedSpans();

function only(spans: ReadableSpan[], name: string, kind?: SpanKind): ReadableSpan {
  const found = spans.filter((span) => span.name === name && (kind === undefined || span.kind === kind));
  expect(found.map((span) => span.name)).toEqual([name]);
  return found[0] as ReadableSpan;
}

describe("traces across gRPC", () => {
  const grpc = useGrpc();

  it("makes the server span a child of the client span, and the client span a child of the caller's", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const caller = tracer.startSpan("caller");
    await context.with(trace.setSpan(context.active(), caller), () => kitchen.getMenu({ restaurantId: "r-1" }));
    caller.end();

    const spans = recorded.spans();
    const client = only(spans, "ftgo.kitchen.v1.KitchenService/GetMenu", SpanKind.CLIENT);
    const served = only(spans, "ftgo.kitchen.v1.KitchenService/GetMenu", SpanKind.SERVER);
    expect(parentOf(client)).toBe(caller.spanContext().spanId);
    expect(parentOf(served)).toBe(client.spanContext().spanId);
    expect(served.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(served.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "ftgo.kitchen.v1.KitchenService",
      "rpc.method": "GetMenu",
      "rpc.grpc.status_code": 0,
    });
    expect(client.attributes).toMatchObject({ "server.address": "127.0.0.1", "server.port": Number(server.port) });
  });

  it("marks NOT_FOUND an error of the client's but not of the server's, and INTERNAL an error of both", async () => {
    const server = await grpc.serve([
      implement(
        KitchenService,
        fakeKitchen({
          getRestaurant: () => {
            throw new Error("the kitchen's database is gone");
          },
        }),
      ),
    ]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    await rejection(kitchen.getTicket({ orderId: "o-1" }));
    await rejection(kitchen.getRestaurant({ restaurantId: "r-1" }));

    const spans = recorded.spans();
    const status = (method: string, kind: SpanKind) => {
      const span = only(spans, `ftgo.kitchen.v1.KitchenService/${method}`, kind);
      return [span.status.code, span.attributes["rpc.grpc.status_code"]];
    };
    expect(status("GetTicket", SpanKind.SERVER)).toEqual([SpanStatusCode.UNSET, Code.NotFound]);
    expect(status("GetTicket", SpanKind.CLIENT)).toEqual([SpanStatusCode.ERROR, Code.NotFound]);
    expect(status("GetRestaurant", SpanKind.SERVER)).toEqual([SpanStatusCode.ERROR, Code.Internal]);
    expect(status("GetRestaurant", SpanKind.CLIENT)).toEqual([SpanStatusCode.ERROR, Code.Internal]);
  });
});

describe("traces across NATS", () => {
  let nc: NatsConnection;
  let dir: string;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    dir = mkdtempSync(join(tmpdir(), "ftgo-tracing-"));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function openService(file: string) {
    const db = openDatabase(join(dir, file), []);
    cleanups.push(() => db.close());
    return { db, outbox: createOutbox(db) };
  }

  function startRelay(db: ReturnType<typeof openDatabase>) {
    const relay = startOutboxRelay({ db, nc, log });
    cleanups.push(() => relay.stop());
    return relay;
  }

  it("continues the writer's trace through the outbox row, the publish and the consumer, after a restart too", async () => {
    const orderId = `order-${randomUUID()}`;
    const file = `order-${randomUUID()}.db`;
    const kitchen = openService(`kitchen-${randomUUID()}.db`);
    await startConsumers({
      nc,
      log,
      db: kitchen.db,
      outbox: kitchen.outbox,
      service: `kitchen-${randomUUID().slice(0, 8)}`,
      subscriptions: [
        on(OrderCreatedSchema, (event, ctx) => {
          if (event.orderId === orderId) ctx.publish(TicketCreatedSchema, { orderId, restaurantId: "r-1" });
        }),
      ],
    }).then((consumers) => cleanups.push(() => consumers.stop()));

    // The order is written inside a span, by a process with no relay running: it "crashes" before publishing.
    const order = openService(file);
    const writer = tracer.startSpan("CreateOrder");
    context.with(trace.setSpan(context.active(), writer), () =>
      order.db.transaction(() =>
        order.outbox.append(OrderCreatedSchema, anOrderCreated(orderId), { correlationId: orderId }),
      )(),
    );
    writer.end();
    order.db.close();

    // Its successor opens the same file; its relay publishes the row outside any span of its own.
    const restarted = openService(file);
    startRelay(restarted.db);

    const ticketRow = () =>
      kitchen.db.prepare("SELECT headers FROM outbox WHERE correlation_id = ?").get(orderId) as
        | { headers: string }
        | undefined;
    await waitFor(() => ticketRow() !== undefined, { message: "Kitchen to handle OrderCreated" });
    await waitFor(
      () =>
        recorded
          .spans()
          .some(
            (span) =>
              span.name === "process ftgo.order.event.order_created" &&
              span.attributes["messaging.message.conversation_id"] === orderId,
          ),
      { message: "the process span to end" },
    );

    const ofOrder = recorded.spans().filter((span) => span.attributes["messaging.message.conversation_id"] === orderId);
    const publish = only(ofOrder, "publish ftgo.order.event.order_created", SpanKind.PRODUCER);
    const processed = only(ofOrder, "process ftgo.order.event.order_created", SpanKind.CONSUMER);
    expect(parentOf(publish)).toBe(writer.spanContext().spanId);
    expect(parentOf(processed)).toBe(publish.spanContext().spanId);
    expect(processed.spanContext().traceId).toBe(writer.spanContext().traceId);
    expect(processed.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.operation.type": "process",
      "messaging.nats.delivery_count": 1,
    });
    // What Kitchen's handler wrote continues from its process span.
    const written = JSON.parse(ticketRow()?.headers ?? "{}") as Record<string, string>;
    expect(written.traceparent).toBe(traceparentOf(trace.setSpanContext(context.active(), processed.spanContext())));
  });

  it("starts a new trace linked to the publish when a message is consumed long after it was sent", () => {
    const publish = tracer.startSpan("publish");
    const sent = traceparentOf(trace.setSpan(context.active(), publish));
    const message = { subject: "ftgo.order.event.order_created.1", messageId: "m-1", correlationId: "o-1" };
    const delivery = { ...message, consumerGroup: "kitchen-p1", deliveryCount: 1 };

    const soon = startProcessSpan(delivery, sent, () => 5);
    const late = startProcessSpan(delivery, sent, () => LATE_AFTER_MS + 1);
    soon.end();
    late.end();
    publish.end();

    const [processedSoon, processedLate] = recorded.spans().filter((span) => span.kind === SpanKind.CONSUMER);
    expect(parentOf(processedSoon as ReadableSpan)).toBe(publish.spanContext().spanId);
    expect(parentOf(processedLate as ReadableSpan)).toBeUndefined();
    expect(processedLate?.spanContext().traceId).not.toBe(publish.spanContext().traceId);
    expect(processedLate?.links.map((link) => link.context.spanId)).toEqual([publish.spanContext().spanId]);
  });
});
