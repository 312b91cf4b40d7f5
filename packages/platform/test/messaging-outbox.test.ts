import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { OrderApprovedSchema, OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../src/db.js";
import { MessageTooLargeError, recordMaxPayload } from "../src/messaging/broker-limit.js";
import { partitionOf } from "../src/messaging/channels.js";
import { createOutbox, type Outbox, OutsideTransactionError } from "../src/messaging/outbox.js";

const SCHEMA = ["CREATE TABLE orders (order_id TEXT PRIMARY KEY, state TEXT NOT NULL)"];

describe("createOutbox", () => {
  let dir: string;
  let db: Database;
  let outbox: Outbox;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ftgo-outbox-"));
    db = openDatabase(join(dir, "order.db"), SCHEMA);
    outbox = createOutbox(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rows = () => db.prepare("SELECT * FROM outbox ORDER BY seq").all() as Record<string, unknown>[];
  const createOrder = (orderId: string, requestId?: string) =>
    db.transaction(() => {
      db.prepare("INSERT INTO orders VALUES (?, 'APPROVAL_PENDING')").run(orderId);
      return outbox.append(OrderCreatedSchema, { orderId, consumerId: "c-1" }, { correlationId: orderId, requestId });
    })();

  it("stores the message, with its subject and header, in the transaction that makes the change", () => {
    const messageId = createOrder("order-7", "req-1");

    const [row] = rows();
    expect(row).toMatchObject({
      seq: 1,
      message_id: messageId,
      subject: `ftgo.order.event.order_created.${partitionOf("order-7", 4)}`,
      type: "ftgo.order.v1.OrderCreated",
      correlation_id: "order-7",
      causation_id: null,
      request_id: "req-1",
      published_at: null,
    });
    expect(JSON.parse(row?.headers as string)).toEqual({
      "Ftgo-Message-Id": messageId,
      "Ftgo-Type": "ftgo.order.v1.OrderCreated",
      "Ftgo-Correlation-Id": "order-7",
      "X-Request-Id": "req-1",
      "Content-Type": "application/x-protobuf",
    });
    expect(fromBinary(OrderCreatedSchema, row?.payload as Buffer).consumerId).toBe("c-1");
  });

  it("refuses to append outside a transaction, so no message can leave without its change", () => {
    const append = () => outbox.append(OrderApprovedSchema, { orderId: "order-1" }, { correlationId: "order-1" });

    expect(append).toThrow(OutsideTransactionError);
    expect(append).toThrow("outbox.append(ftgo.order.v1.OrderApproved) outside a transaction");
    expect(rows()).toEqual([]);
  });

  it("loses the message with the change when the transaction rolls back", () => {
    createOrder("order-1");

    expect(() => createOrder("order-1")).toThrow("UNIQUE constraint failed");

    expect(rows()).toHaveLength(1);
  });

  it("gives every message its own id, in commit order", () => {
    const ids = ["order-1", "order-2", "order-3"].map((orderId) => createOrder(orderId));

    expect(new Set(ids).size).toBe(3);
    expect(rows().map((row) => row.message_id)).toEqual(ids);
  });

  it("partitions by the correlation id with the system-wide partition count it is given", () => {
    const eight = createOutbox(db, { partitions: 8 });
    db.transaction(() => eight.append(OrderApprovedSchema, { orderId: "order-9" }, { correlationId: "order-9" }))();

    expect(rows()[0]?.subject).toBe(`ftgo.order.event.order_approved.${partitionOf("order-9", 8)}`);
  });

  it("refuses a message over the broker's max_payload, so the transaction that wrote it rolls back", () => {
    recordMaxPayload(db, 4_096); // what the relay learnt from the server
    const huge = (orderId: string) =>
      db.transaction(() => {
        db.prepare("INSERT INTO orders VALUES (?, 'APPROVAL_PENDING')").run(orderId);
        outbox.append(OrderCreatedSchema, { orderId, consumerId: "c".repeat(5_000) }, { correlationId: orderId });
      })();

    expect(() => huge("order-big")).toThrow(MessageTooLargeError);
    expect(() => huge("order-big")).toThrow(
      /^ftgo\.order\.v1\.OrderCreated is \d{4} bytes, over the broker's max_payload 4096$/,
    );
    expect(rows()).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM orders").get()).toEqual({ n: 0 });
    createOrder("order-small"); // and a message that fits still goes
    expect(rows()).toHaveLength(1);
  });

  it("assumes nats-server's default max_payload (1 MiB) until the relay has recorded the server's", () => {
    const append = (consumerId: string) =>
      db.transaction(() => outbox.append(OrderCreatedSchema, { orderId: "o", consumerId }, { correlationId: "o" }))();

    expect(() => append("c".repeat(1024 * 1024))).toThrow("over the broker's max_payload 1048576");
    expect(() => append("c".repeat(1000 * 1024))).not.toThrow();
  });
});
