// A service that starts while JetStream does not answer yet (a cluster electing, a server coming up) waits for
// it instead of dying: ensureStream asks again until the stream exists. Here the first server has no JetStream
// at all (nobody answers its API), then a JetStream server takes over the same port.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { ensureStream } from "../src/messaging/channels.js";
import { freePort } from "../src/testing/free-port.js";
import {
  canConnect,
  findNatsServer,
  type NatsServerHandle,
  spawnServer,
  startNatsServer,
  stopProcess,
} from "../src/testing/nats-server.js";
import { waitFor } from "../src/testing/wait.js";

let nc: NatsConnection | undefined;
let server: NatsServerHandle | undefined;
afterEach(async () => {
  await nc?.close();
  await server?.stop();
});

describe("ensureStream", () => {
  it("asks again while nobody answers JetStream's API, and adds the stream once JetStream is there", async () => {
    const port = await freePort();
    const plain = spawnServer(await findNatsServer(), ["-a", "127.0.0.1", "-p", String(port)], {});
    try {
      await waitFor(() => canConnect("127.0.0.1", port), { timeoutMs: 10_000, message: "the plain nats-server" });
      nc = await connect({ servers: `nats://127.0.0.1:${port}`, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 1_000 });
      let settled = false;
      const ensured = ensureStream(jsm, { name: "ENSURED", subjects: ["ensured.>"] }).finally(() => {
        settled = true;
      });
      const unanswered = nc.subscribe("$JS.API.STREAM.CREATE.ENSURED");
      let asked = 0;
      void (async () => {
        for await (const _ of unanswered) asked++;
      })();
      await waitFor(() => asked >= 2, { timeoutMs: 20_000, message: "ensureStream to ask again after a timeout" });
      unanswered.unsubscribe(); // nobody answers now: no responders
      expect(settled).toBe(false);
      await stopProcess(plain, 5_000);
      server = await startNatsServer({ port });
      await ensured;
      expect((await jsm.streams.info("ENSURED")).config.subjects).toEqual(["ensured.>"]);
    } finally {
      await stopProcess(plain, 5_000);
    }
  }, 60_000);
});
