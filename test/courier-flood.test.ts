// A courier cannot flood an order (issue 10, reproduction 5). Delivery gathers quotes on a reply subject
// anyone on the broker can publish to; here a rogue responder answers the quote request of a real order, on
// the real mesh (in-process services, real gRPC sockets, the mesh's own nats-server), with thousands of
// quotes: first one that promises delivery in 1970 for nothing, then others that are free, late, in the past,
// carry terminal escapes in their courier id, or repeat one courier with a better offer, then a stream of
// distinct, well-formed couriers. Delivery takes at most 16 (COURIER_MAX_QUOTES), one per courier, only valid
// ones, assigns the best of those, and keeps every GetDelivery answer small.
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type CourierQuote,
  CourierQuoteRequestSchema,
  CourierQuoteSchema,
} from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { DeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { acceptedOrder } from "@ftgo/harness/saga-over-grpc.js";
import { deliveryScheduled, readyByInMinutes } from "@ftgo/harness/test-couriers.js";
import { decodeBody, MessageHeader, money, PROTOBUF_CONTENT_TYPE, requestSubject } from "@ftgo/platform";
import { connect, type Msg, type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MINUTE = 60_000;
/** Delivery's default cap on quotes per request and per delivery. */
const MAX_QUOTES = 16;
/** The well-formed couriers of the flood, after the bad quotes. */
const FLOOD = 3_000;
const COURIER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

let mesh: TestMesh;
let clients: MeshClients;
let nc: NatsConnection;

beforeAll(async () => {
  mesh = await startTestMesh({ COURIER_QUOTE_WINDOW_MS: "1000", COURIER_RETRY_MS: "200" });
  clients = meshClients(mesh);
  nc = await connect({ servers: mesh.nats.url });
});
afterAll(async () => {
  await nc?.close();
  clients?.close();
  await mesh?.stop();
});

/** The rogue's answer to one request: the bad quotes first, so that whatever Delivery takes first is one of them. */
function floodOf(orderId: string, readyBy: number): CourierQuote[] {
  const quote = (courierId: string, eta: number, price: number) =>
    create(CourierQuoteSchema, {
      orderId,
      courierId,
      estimatedDeliveryTime: timestampFromMs(eta),
      price: money(price),
    });
  return [
    quote("rogue-1970", 0, 0),
    quote("rogue-free", readyBy + MINUTE, 0),
    quote("rogue-negative", readyBy + MINUTE, -500),
    quote("rogue-past", Date.now() - 60 * MINUTE, 100),
    quote("rogue-2999", Date.UTC(2999, 0, 1), 100),
    quote("rogue-dear", readyBy + MINUTE, 10_000_000),
    quote("evil\x1b[2J\x1b[31mERROR", readyBy + MINUTE, 100),
    quote("evil\u202egnp", readyBy + MINUTE, 100),
    quote("", readyBy + MINUTE, 100),
    quote("x".repeat(65), readyBy + MINUTE, 100),
    // One courier twice: its second, better offer must not replace the first.
    quote("rogue-twice", readyBy + 100 * MINUTE, 900),
    quote("rogue-twice", readyBy + MINUTE, 100),
    ...Array.from({ length: FLOOD }, (_, i) =>
      quote(`rogue-${String(i).padStart(4, "0")}`, readyBy + 60 * MINUTE + i * 1_000, 900),
    ),
  ];
}

/** Answers every quote request on its reply subject with `floodOf` the order, as fast as it can publish. */
async function startRogueResponder(): Promise<{ requests: () => number }> {
  let requests = 0;
  nc.subscribe(requestSubject(CourierQuoteRequestSchema), {
    callback: (_err, msg: Msg) => {
      requests += 1;
      const request = decodeBody(CourierQuoteRequestSchema, msg.data);
      const headers = natsHeaders();
      headers.set(MessageHeader.CorrelationId, msg.headers?.get(MessageHeader.CorrelationId) ?? "");
      headers.set(MessageHeader.CausationId, msg.headers?.get(MessageHeader.MessageId) ?? "");
      headers.set(MessageHeader.ContentType, PROTOBUF_CONTENT_TYPE);
      const readyBy = request.readyBy ? timestampDate(request.readyBy).getTime() : Date.now();
      for (const quote of floodOf(request.orderId, readyBy)) {
        nc.publish(msg.reply ?? "", toBinary(CourierQuoteSchema, quote), { headers });
      }
    },
  });
  await nc.flush();
  return { requests: () => requests };
}

/** Delivery's recorded quotes for `orderId`, read-only from its own database. */
function storedQuotes(orderId: string) {
  const db = new Database(`${mesh.dataDir}/delivery.db`, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[string], { courier_id: string; estimated_delivery_time: number; price_minor: number; chosen: number }>(
        "SELECT courier_id, estimated_delivery_time, price_minor, chosen FROM courier_quotes WHERE order_id = ?",
      )
      .all(orderId);
  } finally {
    db.close();
  }
}

describe("a rogue courier flooding a quote request", () => {
  it("gets at most 16 quotes recorded, one per courier, none invalid, and the 1970 quote for nothing does not win", async () => {
    const rogue = await startRogueResponder();
    const startedAt = Date.now();
    const readyBy = readyByInMinutes(15);
    const orderId = await acceptedOrder(clients, readyBy);

    const delivery = await deliveryScheduled(clients, orderId);
    expect(rogue.requests()).toBeGreaterThan(0);
    // The best of the valid quotes that came first: the flood's first well-formed courier after rogue-twice.
    expect(delivery.courierId).toBe("rogue-0000");
    expect(delivery.estimatedDeliveryTime && timestampDate(delivery.estimatedDeliveryTime).getTime()).toBe(
      readyBy.getTime() + 60 * MINUTE,
    );

    // GetDelivery's answer is bounded, and shows only valid quotes.
    expect(delivery.quotes.length).toBeGreaterThan(0);
    expect(delivery.quotes.length).toBeLessThanOrEqual(MAX_QUOTES);
    expect(toBinary(DeliverySchema, delivery).length).toBeLessThan(4_096);
    for (const quote of delivery.quotes) {
      expect(quote.courierId).toMatch(COURIER_ID);
      expect(timestampDate(quote.estimatedDeliveryTime ?? timestampFromMs(0)).getTime()).toBeGreaterThan(startedAt);
      expect(quote.price?.minorUnits).toBeGreaterThan(0n);
    }

    // Delivery's database: at most 16 rows for the order, one per courier, rogue-twice at its first offer.
    const rows = storedQuotes(orderId);
    expect(rows.length).toBeLessThanOrEqual(MAX_QUOTES);
    expect(new Set(rows.map((row) => row.courier_id)).size).toBe(rows.length);
    expect(rows.map((row) => row.courier_id)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(rogue-1970|rogue-free|rogue-past|rogue-2999|rogue-dear)$/)]),
    );
    expect(rows.find((row) => row.courier_id === "rogue-twice")).toMatchObject({
      estimated_delivery_time: readyBy.getTime() + 100 * MINUTE,
      price_minor: 900,
    });
    expect(rows.filter((row) => row.chosen === 1).map((row) => row.courier_id)).toEqual(["rogue-0000"]);
  });
});
