// The orchestrated saga as a story in a trace: each move of Order's orchestrator is a span, a child of the span
// that processed the reply which caused it, naming the states it leaves and enters and noting the command it
// sends; the final move's step (Order.approveOrder) is its child. The services run in this process (a real
// nats-server, real sockets) with the SDK's in-memory exporter, so the spans are read where they were made.
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { parentOf, useRecordedSpans } from "@ftgo/harness/recorded-spans.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const recorded = useRecordedSpans();
let mesh: TestMesh;
let clients: MeshClients;

beforeAll(async () => {
  mesh = await startTestMesh({ SAGA_MODE: "orchestration" });
  clients = meshClients(mesh);
});

afterAll(async () => {
  clients?.close();
  await mesh?.stop();
});

describe("the orchestrator's moves", () => {
  it("are spans of the order's trace, each under the processing of the reply that caused it", async () => {
    const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
    await orderReaches(clients, orderId, new Set([OrderState.APPROVED]));

    const spans = recorded.spans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const moves = spans
      .filter((span) => span.name.startsWith("saga.orchestrator CreateOrderSaga "))
      .filter((span) => traceOf(span, byId).some((s) => s.attributes["messaging.message.conversation_id"] === orderId))
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    expect(moves.map((span) => span.name.replace("saga.orchestrator CreateOrderSaga ", ""))).toEqual([
      "start → VERIFYING_CONSUMER",
      "VERIFYING_CONSUMER → CREATING_TICKET",
      "CREATING_TICKET → AUTHORIZING_CARD",
      "AUTHORIZING_CARD → APPROVING_TICKET",
      "APPROVING_TICKET → APPROVED",
    ]);
    // The first move sends VerifyConsumer, in the trace of the CreateOrder call.
    expect(moves[0]?.attributes["saga.outcome"]).toBe("VerifyConsumer");
    expect(byId.get(parentOf(moves[0] as ReadableSpan) ?? "")?.name).toBe("ftgo.order.v1.OrderService/CreateOrder");
    // Every later move is caused by a reply, and the last one approves the order in a step of its own.
    for (const move of moves.slice(1)) {
      expect(byId.get(parentOf(move) ?? "")?.name).toMatch(/^process ftgo\.order\.reply\./);
    }
    const approve = spans.find(
      (span) => span.name === "saga.step Order.approveOrder" && parentOf(span) === moves[4]?.spanContext().spanId,
    );
    expect(approve?.attributes["saga.outcome"]).toBe("OrderApproved");
  });
});

/** The recorded spans of `span`'s trace. */
function traceOf(span: ReadableSpan, byId: ReadonlyMap<string, ReadableSpan>): ReadableSpan[] {
  const { traceId } = span.spanContext();
  return [...byId.values()].filter((other) => other.spanContext().traceId === traceId);
}
