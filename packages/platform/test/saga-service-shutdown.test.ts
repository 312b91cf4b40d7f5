// A saga participant's stop() runs every step even when one fails. Here the first step fails for real:
// the registry bucket is broken under the running service, so deregistering cannot work. The rest of the
// stop must still happen — the port is released, the outbox's last row reaches JetStream, the database
// is closed — and the failure is reported, not swallowed.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderApprovedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db.js";
import { createOutbox } from "../src/messaging/outbox.js";
import { startSagaService } from "../src/saga-service.js";
import { ShutdownError } from "../src/stop-steps.js";
import { type NatsServerHandle, startNatsServer } from "../src/testing/nats-server.js";
import { breakRegistry } from "../src/testing/registry-faults.js";

describe("startSagaService's stop()", () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;

  // Its own server: the test breaks the registry bucket.
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    dir = mkdtempSync(join(tmpdir(), "ftgo-shutdown-"));
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("closes the server, flushes the relay and closes the database when deregistering fails", async () => {
    const lines: { msg: string; step?: string }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const config = loadConfig({ PORT: "0", NATS_URL: nats.url, DATA_DIR: dir }, { service: "kitchen", port: 0 });
    const db = openDatabase(join(dir, "kitchen.db"), []);
    const outbox = createOutbox(db);
    const service = await startSagaService({
      config,
      log,
      store: { db, outbox, close: () => db.close() },
      subscriptions: [],
      services: () => [],
    });
    const broken = await breakRegistry(nc);
    const orderId = randomUUID();
    // Committed the moment before the stop, as a handler's last transaction is: only the flush sends it.
    db.transaction(() => outbox.append(OrderApprovedSchema, { orderId }, { correlationId: orderId }))();

    const failure = await service.stop().then(
      () => undefined,
      (err: unknown) => err,
    );
    await broken.repair();

    expect(await canListen(service.port)).toBe(true);
    expect(db.open).toBe(false);
    const events = await (await jetstreamManager(nc)).streams.info("FTGO_ORDER_EVENTS");
    expect(events.state.messages).toBe(1);
    expect(failure).toBeInstanceOf(ShutdownError);
    expect((failure as ShutdownError).steps).toEqual(["deregister"]);
    expect((failure as ShutdownError).message).toBe("shutdown finished with 1 error");
    expect(lines.filter((line) => line.msg.startsWith("shutdown step failed")).map((line) => line.step)).toEqual([
      "deregister",
    ]);
  });
});

/** Whether `port` on loopback is free: the server that held it has closed. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
