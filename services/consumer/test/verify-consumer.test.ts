// Create Order step 2 and the rule that refuses, called directly on Consumer's real database (SQLite in a
// temp dir, with the seed consumers): each message is handled in a transaction of its own, as the inbox
// runs it, with a context whose `publish` appends to the real outbox. No NATS.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ConsumerVerificationFailedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { handleEvent } from "@ftgo/platform/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyConsumer } from "../src/steps.js";
import { type ConsumerStore, openConsumerStore } from "../src/store.js";

let dir: string;
let store: ConsumerStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "consumer-steps-"));
  store = openConsumerStore(join(dir, "consumer.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** OrderCreated for `consumerId`, handled in its own transaction as the inbox runs it. */
function verify(consumerId: string) {
  const orderId = `o-${randomUUID()}`;
  const verification = handleEvent(store, orderId, (ctx) => verifyConsumer(store, orderId, consumerId, ctx));
  const events = store.db
    .prepare<[string], { type: string; payload: Buffer }>(
      "SELECT type, payload FROM outbox WHERE correlation_id = ? ORDER BY seq",
    )
    .all(orderId);
  const recorded = store.db
    .prepare<[string], { verified: number; reason: string }>(
      "SELECT verified, reason FROM verifications WHERE order_id = ?",
    )
    .get(orderId);
  return { orderId, verification, events, recorded };
}

describe("verifyConsumer", () => {
  it.each(["c-1001", "c-1002"])("verifies %s, an active consumer, and says so once", (consumerId) => {
    const { verification, events, recorded } = verify(consumerId);
    expect(verification).toMatchObject({ consumerId, verified: true, reason: "" });
    expect(events.map((event) => event.type)).toEqual(["ftgo.consumer.v1.ConsumerVerified"]);
    expect(recorded).toEqual({ verified: 1, reason: "" });
  });

  it.each([
    ["a suspended consumer", "c-1003", "consumer c-1003 is suspended"],
    ["an unknown consumer", "c-9999", "consumer c-9999 not found"],
  ])("refuses %s, with the reason the compensations carry", (_, consumerId, reason) => {
    const { orderId, verification, events, recorded } = verify(consumerId);
    expect(verification).toMatchObject({ consumerId, verified: false, reason });
    expect(events.map((event) => event.type)).toEqual(["ftgo.consumer.v1.ConsumerVerificationFailed"]);
    const failed = fromBinary(ConsumerVerificationFailedSchema, events[0]?.payload ?? new Uint8Array());
    expect([failed.orderId, failed.consumerId, failed.reason]).toEqual([orderId, consumerId, reason]);
    expect(recorded).toEqual({ verified: 0, reason });
  });
});
