// The second reproduction: an undecodable OrderCreated of nearly `max_payload` bytes. Its dead
// letter (body plus the dead-letter headers) was over the limit, so dead-lettering failed, the message came
// back every few seconds with no end, `dead-letters list` showed nothing and the orders behind it on its
// partition never settled, across restarts. Now the dead letter keeps the first bytes of the body and
// where the whole message is, and the partition moves on.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { placeOrders, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import { type DeadLetter, listDeadLetters } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

/** The services that consume OrderCreated, so the ones that each receive the poison. */
const RECEIVERS = ["accounting", "consumer", "kitchen"];
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

const fixture = useSagaMesh({}, { nats: true });

describe.sequential("an undecodable message of nearly max_payload on every partition", () => {
  it("ends in every receiver's dead letters, cut to fit, and the orders behind it settle, also after a restart", async () => {
    const { mesh, clients, dbs, nc } = fixture;
    const size = (nc.info?.max_payload as number) - 400; // fits the broker with its own header, no more
    const poison: string[] = [];
    for (let partition = 0; partition < mesh.partitions; partition++) {
      const messageId = randomUUID();
      const header = headers();
      header.set("Ftgo-Message-Id", messageId);
      header.set("Ftgo-Type", "ftgo.order.v1.OrderCreated");
      header.set("Ftgo-Correlation-Id", `huge-poison-${partition}`);
      header.set("Content-Type", "application/x-protobuf");
      const subject = `ftgo.order.event.order_created.${partition}`;
      await jetstream(nc).publish(subject, new Uint8Array(size).fill(0xff), { headers: header, msgID: messageId });
      poison.push(messageId);
    }

    const expected = mesh.partitions * RECEIVERS.length;
    let letters: DeadLetter[] = [];
    await waitFor(
      async () => {
        letters = await listDeadLetters(nc);
        return letters.length >= expected;
      },
      { timeoutMs: 30_000, message: () => `${expected} dead letters (have ${letters.length})\n${mesh.output()}` },
    );
    expect(letters).toHaveLength(expected);
    for (const letter of letters) {
      expect(letter).toMatchObject({
        reason: "malformed message: body is not a valid ftgo.order.v1.OrderCreated",
        truncatedFrom: size,
        originalStream: "FTGO_ORDER_EVENTS",
      });
      expect(poison).toContain(letter.messageId);
    }
    expect(new Set(letters.map((letter) => letter.service))).toEqual(new Set(RECEIVERS));
    const listed = await run(process.execPath, ["--import", "tsx", "scripts/dead-letters.ts", "list"], {
      cwd: ROOT,
      env: { ...process.env, NATS_URL: mesh.nats.url },
    });
    expect(listed.stdout).toContain(`(body cut from ${size} bytes; whole: FTGO_ORDER_EVENTS #`);

    const placed = await placeOrders(clients, 4, { concurrency: 4 });
    const sagas = await sagasSettleInDatabases(
      dbs,
      placed.map((order) => order.orderId),
      { timeoutMs: 30_000, context: () => mesh.output() },
    );
    expect(unexpectedOutcomes(sagas)).toEqual([]);

    await mesh.kitchen.restart();
    const later = await placeOrders(clients, 4, { concurrency: 4 });
    await sagasSettleInDatabases(
      dbs,
      later.map((order) => order.orderId),
      { timeoutMs: 30_000, context: () => mesh.output() },
    );
    expect(await listDeadLetters(nc)).toHaveLength(expected);
    expect(mesh.crashes()).toEqual([]);
  }, 120_000);
});
