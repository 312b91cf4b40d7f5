// `npm run dead-letters -- list` (scripts/dead-letters.ts) shows other people's text: a dead letter's
// correlation id is whatever the message's sender wrote. Here a real service (the platform's consumer on a
// nats-server of this test's own) dead-letters a malformed message whose correlation id carries terminal
// escapes, and the tool, run as a reader runs it in its own process, prints them escaped: not one ESC
// byte reaches the operator's terminal.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  createOutbox,
  eventSubject,
  listDeadLetters,
  messageHeaders,
  on,
  openDatabase,
  partitionOf,
  silentLogger,
  startConsumers,
} from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer, waitFor } from "@ftgo/platform/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVICE = "kitchen-escapes";
/** Clears the screen, then paints what follows red. */
const ATTACK = "\x1b[2J\x1b[31m";

let nats: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  nats = await startNatsServer(); // its own: the consumer reads the order events from the start
  nc = await connect({ servers: nats.url });
  dir = mkdtempSync(join(tmpdir(), "ftgo-dead-letters-cli-"));
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A service consuming OrderCreated, as Kitchen does: what it cannot decode ends in its dead letters. */
async function startService(): Promise<void> {
  const db = openDatabase(join(dir, `${SERVICE}.db`), []);
  const consumers = await startConsumers({
    nc,
    db,
    outbox: createOutbox(db),
    log: silentLogger(),
    service: SERVICE,
    subscriptions: [on(OrderCreatedSchema, () => {})],
  });
  cleanups.push(
    () => db.close(),
    () => consumers.stop(),
  );
}

/** Runs `npm run dead-letters -- <args>` (without npm: the same tsx command) against this test's broker. */
async function deadLetters(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NATS_URL: nats.url };
  const run = promisify(execFile);
  return run(process.execPath, ["--import", "tsx", "scripts/dead-letters.ts", ...args], { cwd: ROOT, env });
}

describe("npm run dead-letters -- list", () => {
  it("prints a correlation id that carries terminal escapes escaped: no ESC byte reaches the terminal", async () => {
    await startService();
    const prefix = `o-${randomUUID()}`;
    const orderId = `${prefix}${ATTACK}FORGED`;
    const messageId = randomUUID();
    await jetstream(nc).publish(
      eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
      new TextEncoder().encode("not protobuf"),
      {
        headers: messageHeaders({ messageId, type: OrderCreatedSchema.typeName, correlationId: orderId }),
        msgID: messageId,
      },
    );
    const [letter] = await waitFor(() => listDeadLetters(nc, { service: SERVICE }).then((l) => l.length && l), {
      message: "the malformed message in the dead letters",
    });
    expect(letter?.correlationId).toBe(orderId); // the attacker's bytes are really in the dead letter

    const { stdout } = await deadLetters("list", "--service", SERVICE);
    expect(stdout).not.toContain("\x1b");
    expect(stdout).toContain(`${prefix}\\x1b[2J\\x1b[31mFORGED`);
    expect(stdout).toContain(SERVICE);
  });
});
