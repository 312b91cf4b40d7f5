// The courier dispatcher against a real nats-server and real SQLite files: it gathers quotes by
// correlation id, assigns the best courier once, and records and logs who answered. The couriers here are
// plain NATS responders written in the test (the courier app has tests of its own in test/delivery.test.ts).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ScheduleDeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import { CourierQuoteRequestSchema, CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { MessageHeader, money, PROTOBUF_CONTENT_TYPE } from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer, waitFor } from "@ftgo/platform/testing";
import { connect, type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { COURIER_QUOTE_REQUEST_SUBJECT, createQuoteGatherer, type QuoteGatherer } from "../src/courier-quotes.js";
import { type CourierDispatcher, formatMs, retryDelay, startCourierDispatcher } from "../src/dispatcher.js";
import { type DeliveryStore, openDeliveryStore } from "../src/store.js";

const MINUTE = 60_000;
const READY_BY = Math.ceil((Date.now() + 60 * MINUTE) / MINUTE) * MINUTE;

let nats: NatsServerHandle;
let dir: string;
/** Everything a test opened, closed after it in reverse order. */
let cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  nats = await startNatsServer(); // its own: couriers answer on a fixed subject, so tests must not share one
});
afterAll(() => nats?.stop());
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  rmSync(dir, { recursive: true, force: true });
});

async function natsConnection(): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url });
  cleanups.push(() => nc.close());
  return nc;
}

/** A Delivery database in a fresh folder (or the folder of an earlier call: a second instance on the same file). */
function store(sameFileAs?: DeliveryStore): DeliveryStore {
  if (!sameFileAs) dir = mkdtempSync(join(tmpdir(), "ftgo-dispatcher-"));
  const opened = openDeliveryStore(join(dir, "delivery.db"));
  cleanups.push(() => opened.close());
  return opened;
}

/** What the dispatcher logged, as parsed pino records. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { log: pino({ level: "debug" }, stream), lines };
}

/** A PENDING delivery, as Kitchen's ScheduleDelivery leaves it. */
function schedule(deliveries: DeliveryStore, orderId: string) {
  deliveries.db.transaction(() =>
    deliveries.scheduleDelivery(
      create(ScheduleDeliverySchema, { orderId, restaurantId: "r-1", readyBy: timestampFromMs(READY_BY) }),
      { messageId: randomUUID() },
    ),
  )();
}

interface Responder {
  readonly courierId: string;
  readonly minutes: number;
  readonly price: number;
  /** Tamper with the correlation headers, to see that Delivery drops what it cannot match. */
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** A courier as a bare NATS responder: answers every quote request on its reply subject. */
async function courier(nc: NatsConnection, responder: Responder): Promise<void> {
  const sub = nc.subscribe(COURIER_QUOTE_REQUEST_SUBJECT, {
    callback: (_err, msg) => {
      const request = fromBinary(CourierQuoteRequestSchema, msg.data);
      const readyBy = request.readyBy ? timestampDate(request.readyBy).getTime() : 0;
      const headers = natsHeaders();
      headers.set(
        MessageHeader.CorrelationId,
        responder.correlationId ?? msg.headers?.get(MessageHeader.CorrelationId) ?? "",
      );
      headers.set(MessageHeader.CausationId, responder.causationId ?? msg.headers?.get(MessageHeader.MessageId) ?? "");
      headers.set(MessageHeader.ContentType, PROTOBUF_CONTENT_TYPE);
      const quote = create(CourierQuoteSchema, {
        orderId: request.orderId,
        courierId: responder.courierId,
        estimatedDeliveryTime: timestampFromMs(readyBy + responder.minutes * MINUTE),
        price: money(responder.price),
      });
      msg.respond(toBinary(CourierQuoteSchema, quote), { headers });
    },
  });
  await nc.flush();
  cleanups.push(() => sub.unsubscribe());
}

/** Starts a dispatcher (one Delivery instance's) on `deliveries`, with its own connection and reply inbox. */
async function dispatcher(
  deliveries: DeliveryStore,
  options: { windowMs?: number; retryMs?: number; maxQuotes?: number } = {},
) {
  const nc = await natsConnection();
  const { log, lines } = capturingLogger();
  const gatherer: QuoteGatherer = createQuoteGatherer({ nc, log, maxQuotes: options.maxQuotes });
  const running: CourierDispatcher = startCourierDispatcher({
    store: deliveries,
    gatherer,
    relay: { kick() {} },
    log,
    windowMs: options.windowMs ?? 200,
    retryMs: options.retryMs ?? 100,
  });
  cleanups.push(async () => {
    await running.stop();
    gatherer.close();
  });
  return { lines };
}

const scheduled = (deliveries: DeliveryStore, orderId: string) =>
  waitFor(
    () => deliveries.findDelivery(orderId)?.state === DeliveryState.SCHEDULED && deliveries.findDelivery(orderId),
    {
      timeoutMs: 10_000,
      message: `delivery of ${orderId} SCHEDULED`,
    },
  );

describe("startCourierDispatcher", () => {
  it("assigns a delivery left PENDING before it started to the best courier, and records and logs every quote", async () => {
    const deliveries = store();
    schedule(deliveries, "o-best");
    const nc = await natsConnection();
    await courier(nc, { courierId: "slow", minutes: 40, price: 300 });
    await courier(nc, { courierId: "fast", minutes: 15, price: 900 });
    await courier(nc, { courierId: "fast-cheap", minutes: 15, price: 600 });
    const { lines } = await dispatcher(deliveries);

    const delivery = await scheduled(deliveries, "o-best");
    expect(delivery.courierId).toBe("fast-cheap");
    expect(delivery.estimatedDeliveryTime && timestampDate(delivery.estimatedDeliveryTime).getTime()).toBe(
      READY_BY + 15 * MINUTE,
    );
    expect(delivery.quotes.map((q) => q.courierId)).toEqual(["fast-cheap", "fast", "slow"]);
    const assigned = lines.find((line) => line.msg === "courier fast-cheap assigned");
    expect(assigned).toMatchObject({ orderId: "o-best", courierId: "fast-cheap" });
    expect(((assigned?.quotes ?? []) as { courierId: string }[]).map((q) => q.courierId)).toEqual([
      "fast-cheap",
      "fast",
      "slow",
    ]);
  });

  it("matches replies by correlation id: a quote naming another order or another request is dropped", async () => {
    const deliveries = store();
    schedule(deliveries, "o-match");
    const nc = await natsConnection();
    await courier(nc, { courierId: "honest", minutes: 30, price: 500 });
    await courier(nc, { courierId: "other-order", minutes: 5, price: 100, correlationId: "o-someone-else" });
    await courier(nc, { courierId: "other-request", minutes: 5, price: 100, causationId: randomUUID() });
    await dispatcher(deliveries);

    const delivery = await scheduled(deliveries, "o-match");
    expect(delivery.courierId).toBe("honest");
    expect(delivery.quotes.map((q) => q.courierId)).toEqual(["honest"]);
  });

  it("drops invalid quotes and says so in one warning per request, not one per quote", async () => {
    const deliveries = store();
    schedule(deliveries, "o-invalid");
    const nc = await natsConnection();
    await courier(nc, { courierId: "honest", minutes: 30, price: 500 });
    for (let i = 0; i < 20; i++) await courier(nc, { courierId: `free-${i}`, minutes: 5, price: 0 });
    await courier(nc, { courierId: "bad id with spaces", minutes: 5, price: 100 });
    await courier(nc, { courierId: "past", minutes: -120, price: 100 });
    const { lines } = await dispatcher(deliveries);

    const delivery = await scheduled(deliveries, "o-invalid");
    expect(delivery.courierId).toBe("honest");
    expect(delivery.quotes.map((q) => q.courierId)).toEqual(["honest"]);
    const warnings = lines.filter((line) => line.orderId === "o-invalid" && line.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: "22 courier quote(s) dropped",
        kept: 1,
        dropped: {
          "price: a quote must cost more than nothing [price.positive]": 20,
          "courier_id: does not match regex pattern `^[A-Za-z0-9][A-Za-z0-9_.:-]*$` [string.pattern]": 1,
          "estimated delivery time is in the past": 1,
        },
      }),
    ]);
  });

  it("takes at most maxQuotes quotes per request, ending the window as soon as it has them", async () => {
    const deliveries = store();
    schedule(deliveries, "o-capped");
    const nc = await natsConnection();
    for (let i = 0; i < 6; i++) await courier(nc, { courierId: `c-${i}`, minutes: 20 + i, price: 500 });
    // A window far longer than the wait below: only ending it at the cap assigns the courier in time.
    await dispatcher(deliveries, { windowMs: 120_000, maxQuotes: 2 });

    const delivery = await scheduled(deliveries, "o-capped");
    expect(delivery.quotes).toHaveLength(2);
    expect(
      deliveries.db.prepare("SELECT count(*) AS n FROM courier_quotes WHERE order_id = ?").get("o-capped"),
    ).toEqual({
      n: 2,
    });
  });

  it("assigns a delivery at most once when two instances gather quotes for it at the same time", async () => {
    const first = store();
    const second = store(first); // a second instance on the same database file
    schedule(first, "o-twice");
    const nc = await natsConnection();
    const requests: string[] = [];
    const watcher = nc.subscribe(COURIER_QUOTE_REQUEST_SUBJECT, {
      callback: (_err, msg) => {
        requests.push(msg.headers?.get(MessageHeader.MessageId) ?? "");
      },
    });
    cleanups.push(() => watcher.unsubscribe());
    await courier(nc, { courierId: "c-1", minutes: 20, price: 500 });
    await courier(nc, { courierId: "c-2", minutes: 25, price: 400 });
    const [a, b] = await Promise.all([dispatcher(first), dispatcher(second)]);

    await scheduled(first, "o-twice");
    await waitFor(() => requests.length === 2, { timeoutMs: 5_000, message: "both instances to ask the couriers" });
    const outcomes = () =>
      [...a.lines, ...b.lines].filter((l) => l.orderId === "o-twice" && String(l.msg).includes("assigned"));
    await waitFor(() => outcomes().length === 2, { timeoutMs: 5_000, message: "both instances to finish" });
    expect(
      outcomes()
        .map((line) => line.msg)
        .sort(),
    ).toEqual(["courier c-1 assigned", "delivery was already assigned (by another instance): quotes discarded"]);
    const rows = first.db
      .prepare<[string], { courier_id: string; chosen: number }>(
        "SELECT courier_id, chosen FROM courier_quotes WHERE order_id = ? ORDER BY courier_id",
      )
      .all("o-twice");
    expect(rows).toEqual([
      { courier_id: "c-1", chosen: 1 },
      { courier_id: "c-2", chosen: 0 },
    ]);
    const events = first.db.prepare("SELECT type FROM outbox WHERE correlation_id = ?").all("o-twice");
    expect(events).toEqual([{ type: "ftgo.delivery.v1.DeliveryScheduled" }]);
  });

  it("keeps the delivery PENDING with a reason when nobody answers, and tries again with a growing delay", async () => {
    const deliveries = store();
    schedule(deliveries, "o-alone");
    const { lines } = await dispatcher(deliveries, { windowMs: 50, retryMs: 100 });

    const postponed = () => lines.filter((line) => line.orderId === "o-alone" && line.level === 40);
    await waitFor(() => postponed().length >= 3, { timeoutMs: 10_000, message: "three attempts without a courier" });
    const delivery = deliveries.findDelivery("o-alone");
    expect(delivery?.state).toBe(DeliveryState.PENDING);
    expect(delivery?.courierId).toBe("");
    expect(delivery?.reason).toMatch(/^no courier answered within 50 ms; retrying in \d+ ms$/);
    expect(
      postponed()
        .slice(0, 3)
        .map((line) => [line.msg, line.retryInMs]),
    ).toEqual([
      ["no courier answered within 50 ms; retrying in 100 ms", 100],
      ["no courier answered within 50 ms; retrying in 200 ms", 200],
      ["no courier answered within 50 ms; retrying in 400 ms", 400],
    ]);
  });
});

describe("retryDelay and formatMs", () => {
  it("doubles the delay after each attempt up to eight times the first, and says it as a person would", () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(5_000, attempt))).toEqual([
      5_000, 10_000, 20_000, 40_000, 40_000, 40_000,
    ]);
    expect([400, 5_000, 2_500].map(formatMs)).toEqual(["400 ms", "5 s", "2.5 s"]);
  });
});
