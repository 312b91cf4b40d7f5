import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { silentLogger } from "../src/log.js";
import { eventSubject, partitionOf } from "../src/messaging/channels.js";
import { startConsumers } from "../src/messaging/consumer.js";
import { listDeadLetters } from "../src/messaging/dead-letters.js";
import { encodeBody, envelopeHeaders, toNatsHeaders } from "../src/messaging/envelope.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { on } from "../src/messaging/subscriptions.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/index.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated } from "./message-fixtures.js";

// Dead letters are listed server-wide, and a poison message reaches every consumer of the stream: this file
// runs its own broker.
describe("a consumed message that breaks its contract's limits", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    dir = mkdtempSync(join(tmpdir(), "ftgo-limits-"));
  });
  afterAll(async () => {
    await nc.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("goes to the dead letters at once with the field and the rule as the reason, and the partition goes on", async () => {
    const db = openDatabase(join(dir, "kitchen.db"), []);
    const handled: string[] = [];
    const consumers = await startConsumers({
      nc,
      db,
      outbox: createOutbox(db),
      log: silentLogger(),
      service: "kitchen-limits",
      subscriptions: [on(OrderCreatedSchema, (_event, ctx) => void handled.push(ctx.messageId))],
    });
    try {
      const orderId = `order-${randomUUID()}`;
      const publish = async (consumerId: string) => {
        const messageId = randomUUID();
        const envelope = { messageId, type: OrderCreatedSchema.typeName, correlationId: orderId };
        await jetstream(nc).publish(
          eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
          encodeBody(OrderCreatedSchema, { ...anOrderCreated(orderId), consumerId }),
          { headers: toNatsHeaders(envelopeHeaders(envelope)), msgID: messageId },
        );
        return messageId;
      };
      const oversized = await publish("c".repeat(65));
      const next = await publish("c-1001");

      await waitFor(() => handled.includes(next), { message: "the message behind it handled" });
      expect(handled).not.toContain(oversized);
      expect(await listDeadLetters(nc, { service: "kitchen-limits" })).toMatchObject([
        {
          messageId: oversized,
          reason: "malformed message: breaks its contract: consumer_id: must be at most 64 characters [string.max_len]",
          deliveries: 1,
        },
      ]);
    } finally {
      await consumers.stop();
      db.close();
    }
  });
});
