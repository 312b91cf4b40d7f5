// Poison messages: a body that does not decode as the type its header names, and a message with no
// header at all, published onto OrderCreated's channel. Retrying cannot help, and each partition keeps
// order, so such a message would block its partition for good: every receiver must move it to the dead
// letters at once, say why, and carry on with the next order.
import { randomUUID } from "node:crypto";
import { auditSagas } from "@ftgo/harness/saga-audit.js";
import { placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { type DeadLetter, listDeadLetters } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

/** The services that consume OrderCreated, so the ones that each receive the poison. */
const RECEIVERS = ["accounting", "consumer", "kitchen"];
/** Field 1 as a length-delimited value 2^35 bytes long, in a 6-byte body: no protobuf parser can take it. */
const GARBAGE = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f]);

const fixture = useSagaMesh({}, { nats: true });

describe.sequential("a poison message on ftgo.order.event.order_created.<p>", () => {
  it("goes to the dead letters of every receiver with its reason, and the next orders still complete", async () => {
    const { mesh, clients, dbs, nc } = fixture;
    const js = jetstream(nc);
    // Into every partition, so that every order placed afterwards queues behind a poison message.
    const poison: { subject: string; messageId: string }[] = [];
    for (let partition = 0; partition < mesh.partitions; partition++) {
      const subject = `ftgo.order.event.order_created.${partition}`;
      const messageId = randomUUID();
      const valid = headers();
      valid.set("Ftgo-Message-Id", messageId);
      valid.set("Ftgo-Type", "ftgo.order.v1.OrderCreated");
      valid.set("Ftgo-Correlation-Id", `poison-${partition}`);
      valid.set("Content-Type", "application/x-protobuf");
      await js.publish(subject, GARBAGE, { headers: valid, msgID: messageId });
      await js.publish(subject, new TextEncoder().encode("no header at all"));
      poison.push({ subject, messageId });
    }

    const expected = 2 * mesh.partitions * RECEIVERS.length;
    let letters: DeadLetter[] = [];
    await waitFor(
      async () => {
        letters = await listDeadLetters(nc);
        return letters.length >= expected;
      },
      { timeoutMs: 20_000, message: () => `${expected} dead letters (have ${letters.length})` },
    );
    expect(letters).toHaveLength(expected);
    for (const service of RECEIVERS) {
      const own = letters.filter((letter) => letter.service === service);
      for (const { subject, messageId } of poison) {
        const here = own.filter((letter) => letter.originalSubject === subject);
        expect(here, `${service}'s dead letters from ${subject}`).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              type: "ftgo.order.v1.OrderCreated",
              messageId,
              correlationId: expect.stringMatching(/^poison-/),
              reason: "malformed message: body is not a valid ftgo.order.v1.OrderCreated",
              deliveries: 1,
            }),
            expect.objectContaining({
              type: undefined,
              messageId: undefined,
              reason: "malformed message: missing header Content-Type",
              deliveries: 1,
            }),
          ]),
        );
        expect(here).toHaveLength(2);
      }
      // Dead-lettered, not handled: nothing about them in the receiver's database.
      const ids = poison.map((p) => p.messageId);
      const handled = dbs[service as "accounting" | "consumer" | "kitchen"]
        .prepare(`SELECT count(*) AS n FROM processed_messages WHERE message_id IN (${ids.map(() => "?").join(", ")})`)
        .get(...ids);
      expect(handled).toEqual({ n: 0 });
    }

    // One order down each path, each behind a poison message in its partition.
    const placed = await placeOrders(clients, 4, { concurrency: 4 });
    const orderIds = placed.map((order) => order.orderId);
    const sagas = await sagasSettleInDatabases(dbs, orderIds, { timeoutMs: 30_000, context: () => mesh.output() });
    expect(unexpectedOutcomes(sagas)).toEqual([]);
    expect(auditSagas(dbs, orderIds).violations).toEqual([]);
    expect(await listDeadLetters(nc)).toHaveLength(expected);
    expect(mesh.crashes()).toEqual([]);
  }, 90_000);
});
