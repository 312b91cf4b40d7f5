// The channel table (docs/sagas-and-messaging.md) must say what the code does: every event message of proto/
// is listed, with the services that subscribe to it, exactly as their saga.ts files subscribe; besides them
// only the dead letters and Delivery's quote request, a core NATS channel the couriers answer (they are not
// saga participants, so their row is checked against the subject Delivery publishes on).
import { readFileSync } from "node:fs";
import { accountingSaga } from "@ftgo/accounting/saga";
import { consumerSaga } from "@ftgo/consumer/saga";
import { file_ftgo_accounting_v1_events } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { file_ftgo_consumer_v1_events } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { CourierQuoteRequestSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { file_ftgo_kitchen_v1_events } from "@ftgo/gen/ftgo/kitchen/v1/events_pb.js";
import { file_ftgo_order_v1_events } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { kitchenSaga } from "@ftgo/kitchen/saga";
import { orderSaga } from "@ftgo/order/saga";
import { eventSubject, requestSubject, type Subscription, silentLogger } from "@ftgo/platform";
import { describe, expect, it } from "vitest";

/** The subject Delivery publishes its quote requests on (services/delivery/src/courier-quotes.ts). */
const COURIER_QUOTE_REQUEST_SUBJECT = requestSubject(CourierQuoteRequestSchema);

const PAGE = readFileSync(new URL("../docs/sagas-and-messaging.md", import.meta.url), "utf8");

/** Rows of the channel table: subject (without partition) → { message, publisher, consumers }. */
function channelTable() {
  const rows = PAGE.split("\n").filter((line) => line.startsWith("| `ftgo."));
  return new Map(
    rows.map((line) => {
      const [subject, message, publisher, consumers] = line
        .split("|")
        .slice(1, 5)
        .map((cell) => cell.trim().replaceAll("`", ""));
      const list = consumers === "—" ? [] : (consumers ?? "").split(",").map((s) => s.trim());
      return [subject as string, { message, publisher, consumers: list.sort() }];
    }),
  );
}

// The sagas only read their deps when a message arrives; listing their subscriptions needs none.
const none = {} as never;
const subscriptions: Record<string, Subscription[]> = {
  order: orderSaga({ store: none, log: silentLogger() }),
  consumer: consumerSaga({ store: none, log: silentLogger(), mode: "choreography" }),
  kitchen: kitchenSaga({ store: none, log: silentLogger(), mode: "choreography" }),
  accounting: accountingSaga({ store: none, log: silentLogger(), mode: "choreography" }),
};

const EVENT_FILES = [
  file_ftgo_order_v1_events,
  file_ftgo_consumer_v1_events,
  file_ftgo_kitchen_v1_events,
  file_ftgo_accounting_v1_events,
];

describe("the channel table", () => {
  const table = channelTable();

  it.each(EVENT_FILES.flatMap((file) => file.messages))(
    "lists $typeName with its subject, publisher and consumers",
    (event) => {
      const subject = eventSubject(event, 0).replace(/\.0$/, "");
      const row = table.get(subject);
      expect(row, `no row for ${subject}`).toBeDefined();
      expect(row?.message).toBe(event.typeName);
      expect(row?.publisher).toBe(event.typeName.split(".")[1]);
      const consumers = Object.entries(subscriptions)
        .filter(([, subs]) => subs.some((s) => s.schema.typeName === event.typeName))
        .map(([service]) => service)
        .sort();
      expect(row?.consumers).toEqual(consumers);
    },
  );

  it("lists no channel that does not exist", () => {
    const known = new Set(
      EVENT_FILES.flatMap((file) => file.messages).map((m) => eventSubject(m, 0).replace(/\.0$/, "")),
    );
    known.add(COURIER_QUOTE_REQUEST_SUBJECT);
    const extra = [...table.keys()].filter((subject) => !known.has(subject) && !subject.startsWith("ftgo.deadletter."));
    expect(extra).toEqual([]);
  });

  it("lists the courier quote request: Delivery asks every courier, on the subject it publishes on", () => {
    expect(table.get(COURIER_QUOTE_REQUEST_SUBJECT)).toEqual({
      message: CourierQuoteRequestSchema.typeName,
      publisher: "delivery",
      consumers: ["every courier"],
    });
  });
});
