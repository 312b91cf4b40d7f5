// Delivery's two asynchronous interaction styles, end to end on the real mesh (in-process services, real
// gRPC sockets, a nats-server of the mesh's own) with real courier apps started in this process:
//   one-way notification     the restaurant accepts a ticket → Kitchen sends ScheduleDelivery to Delivery's
//                            point-to-point command channel, naming no reply channel → the delivery exists
//   publish/async responses  Delivery publishes a quote request to every courier with a reply subject and a
//                            correlation id, gathers the quotes for a window, assigns the best courier
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { RunningCourier } from "@ftgo/courier";
import { ScheduleDeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import { type Delivery, DeliveryState } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { acceptedOrder } from "@ftgo/harness/saga-over-grpc.js";
import { deliveryScheduled, deliveryWhen, readyByInMinutes, startTestCourier } from "@ftgo/harness/test-couriers.js";
import {
  createOutbox,
  MessageHeader,
  type OutboxRelay,
  openDatabase,
  partitionOf,
  silentLogger,
  startOutboxRelay,
} from "@ftgo/platform";
import type { CourierTerms } from "@ftgo/platform/roster";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const WINDOW_MS = 300;
const RETRY_MS = 200;
const MINUTE = 60_000;
/** Three couriers: a is slow and cheap, b and c equally fast, c cheaper than b. The rule picks c. */
const A = { id: "courier-a", minutes: 30, price: 400 };
const B = { id: "courier-b", minutes: 20, price: 700 };
const C = { id: "courier-c", minutes: 20, price: 500 };

let mesh: TestMesh;
let clients: MeshClients;
/** The test's own connection, to look at the streams as an operator would. */
let nc: NatsConnection;
let couriers: RunningCourier[] = [];

beforeAll(async () => {
  mesh = await startTestMesh({ COURIER_QUOTE_WINDOW_MS: String(WINDOW_MS), COURIER_RETRY_MS: String(RETRY_MS) });
  clients = meshClients(mesh);
  nc = await connect({ servers: mesh.nats.url });
});
afterEach(async () => {
  await Promise.all(couriers.map((courier) => courier.stop()));
  couriers = [];
});
afterAll(async () => {
  await nc?.close();
  clients?.close();
  await mesh?.stop();
});

async function startCouriers(...terms: CourierTerms[]) {
  couriers.push(...(await Promise.all(terms.map((t) => startTestCourier(mesh.nats.url, t)))));
}

/** The quotes of a delivery as `courier eta-offset-minutes price`, e.g. "courier-c +20 500". */
function quotesOf(delivery: Delivery, readyBy: Date): string[] {
  return delivery.quotes.map((quote) => {
    const eta = quote.estimatedDeliveryTime ? timestampDate(quote.estimatedDeliveryTime).getTime() : Number.NaN;
    return `${quote.courierId} +${(eta - readyBy.getTime()) / MINUTE} ${quote.price?.minorUnits}`;
  });
}

/** Delivery's own database, read-only, for what its API does not show (its inbox and outbox). */
function readDeliveryDb<T>(read: (db: Database.Database) => T): T {
  const db = new Database(`${mesh.dataDir}/delivery.db`, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe("one-way notification: Kitchen's ScheduleDelivery on Delivery's command channel", () => {
  it("schedules the delivery when the restaurant accepts the ticket, with its restaurant and ready-by time", async () => {
    await startCouriers(C);
    const readyBy = readyByInMinutes(15);
    const orderId = await acceptedOrder(clients, readyBy);
    const delivery = await deliveryScheduled(clients, orderId);
    expect(delivery).toMatchObject({ orderId, restaurantId: "r-1", courierId: "courier-c", reason: "" });
    expect(delivery.readyBy && timestampDate(delivery.readyBy).getTime()).toBe(readyBy.getTime());
  });

  it("sends the command naming no reply channel, and Delivery sends nothing back", async () => {
    await startCouriers(C);
    const orderId = await acceptedOrder(clients, readyByInMinutes(10));
    await deliveryScheduled(clients, orderId);
    const jsm = await jetstreamManager(nc);
    const command = await jsm.streams.getMessage("FTGO_DELIVERY_COMMANDS", {
      last_by_subj: `ftgo.delivery.command.schedule_delivery.${partitionOf(orderId, 4)}`,
    });
    expect(command?.header.get(MessageHeader.Type)).toBe(ScheduleDeliverySchema.typeName);
    expect(command?.header.get(MessageHeader.CorrelationId)).toBe(orderId);
    expect(command?.header.has(MessageHeader.ReplyTo)).toBe(false);
    // Delivery's only message about the order is its own event: no reply, no command to anyone.
    const sent = readDeliveryDb((db) =>
      db.prepare<[string], { type: string }>("SELECT type FROM outbox WHERE correlation_id = ?").all(orderId),
    );
    expect(sent.map((row) => row.type)).toEqual(["ftgo.delivery.v1.DeliveryScheduled"]);
  });

  it("ignores a second, distinct ScheduleDelivery for an order that has its delivery: no second delivery, no reassignment", async () => {
    await startCouriers(B);
    const readyBy = readyByInMinutes(20);
    const orderId = await acceptedOrder(clients, readyBy);
    const first = await deliveryScheduled(clients, orderId);
    expect(first.courierId).toBe("courier-b");
    // A faster, cheaper courier is up now: a second assignment would pick it.
    await startCouriers(C);
    const messageId = await sendScheduleDelivery(orderId, readyByInMinutes(40));
    await waitFor(
      () => readDeliveryDb((db) => db.prepare("SELECT 1 FROM processed_messages WHERE message_id = ?").get(messageId)),
      { timeoutMs: 10_000, message: "Delivery to handle the second ScheduleDelivery" },
    );
    const { delivery } = await clients.delivery.getDelivery({ orderId });
    expect(delivery).toEqual(first);
    expect(
      readDeliveryDb((db) => db.prepare("SELECT count(*) AS n FROM deliveries WHERE order_id = ?").get(orderId)),
    ).toEqual({ n: 1 });
  });
});

describe("publish/async responses: Delivery gathers courier quotes by correlation id", () => {
  it("assigns the earliest ETA, then the lowest price, among three couriers that answer, and records all three", async () => {
    await startCouriers(A, B, C);
    const readyBy = readyByInMinutes(30);
    const orderId = await acceptedOrder(clients, readyBy);
    const delivery = await deliveryScheduled(clients, orderId);
    expect(delivery.courierId).toBe("courier-c");
    expect(delivery.estimatedDeliveryTime && timestampDate(delivery.estimatedDeliveryTime).getTime()).toBe(
      readyBy.getTime() + 20 * MINUTE,
    );
    // Best first: c and b arrive together, c is cheaper; a arrives ten minutes later.
    expect(quotesOf(delivery, readyBy)).toEqual(["courier-c +20 500", "courier-b +20 700", "courier-a +30 400"]);
    const chosen = readDeliveryDb((db) =>
      db
        .prepare<[string], { courier_id: string; chosen: number }>(
          "SELECT courier_id, chosen FROM courier_quotes WHERE order_id = ? ORDER BY courier_id",
        )
        .all(orderId),
    );
    expect(chosen).toEqual([
      { courier_id: "courier-a", chosen: 0 },
      { courier_id: "courier-b", chosen: 0 },
      { courier_id: "courier-c", chosen: 1 },
    ]);
  });

  it("assigns the only courier that answers when the other two are down", async () => {
    await startCouriers(A);
    const readyBy = readyByInMinutes(30);
    const orderId = await acceptedOrder(clients, readyBy);
    const delivery = await deliveryScheduled(clients, orderId);
    expect(delivery.courierId).toBe("courier-a");
    expect(quotesOf(delivery, readyBy)).toEqual(["courier-a +30 400"]);
  });

  it("keeps the delivery PENDING with the reason while no courier answers, and assigns one that comes up later", async () => {
    const readyBy = readyByInMinutes(30);
    const orderId = await acceptedOrder(clients, readyBy);
    const waiting = await deliveryWhen(clients, orderId, (d) => d.reason !== "", "a reason for the waiting delivery");
    expect(waiting.state).toBe(DeliveryState.PENDING);
    expect(waiting.courierId).toBe("");
    expect(waiting.reason).toMatch(new RegExp(`^no courier answered within ${WINDOW_MS} ms; retrying in [\\d.]+ m?s$`));
    expect(waiting.quotes).toEqual([]);

    await startCouriers(B);
    const delivery = await deliveryScheduled(clients, orderId);
    expect(delivery).toMatchObject({ courierId: "courier-b", reason: "" });
    expect(quotesOf(delivery, readyBy)).toEqual(["courier-b +20 700"]);
  });
});

/**
 * Sends one more ScheduleDelivery for `orderId` the way Kitchen does — through a transactional outbox and its
 * relay — but as a new message (a new message id), as a second Kitchen would. Returns its message id.
 */
async function sendScheduleDelivery(orderId: string, readyBy: Date): Promise<string> {
  const db = openDatabase(":memory:", []);
  const outbox = createOutbox(db);
  const messageId = db.transaction(() =>
    outbox.send(
      ScheduleDeliverySchema,
      { orderId, restaurantId: "r-1", readyBy: timestampFromDate(readyBy) },
      { correlationId: orderId },
    ),
  )();
  let relay: OutboxRelay | undefined;
  try {
    relay = startOutboxRelay({ db, nc, log: silentLogger() });
    await waitFor(() => relay?.stats().pending === 0 && relay.stats().published === 1, {
      timeoutMs: 10_000,
      message: "the second ScheduleDelivery to be published",
    });
  } finally {
    await relay?.stop();
    db.close();
  }
  return messageId;
}
