import { once } from "node:events";
import { createServer, connect as netConnect } from "node:net";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, describe, expect, inject, it } from "vitest";
import { canConnect, freePort, type NatsServerHandle, startNatsServer } from "../src/testing/index.js";
import { connectedToItself } from "../src/testing/nats-server.js";

describe("startNatsServer", () => {
  const servers: NatsServerHandle[] = [];
  const connections: NatsConnection[] = [];
  const start = async () => {
    const server = await startNatsServer();
    servers.push(server);
    return server;
  };
  const connectTo = async (url: string) => {
    const nc = await connect({ servers: url });
    connections.push(nc);
    return nc;
  };

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it("starts a reachable server with JetStream on a free port", async () => {
    const server = await start();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);

    const jsm = await jetstreamManager(await connectTo(server.url));
    const account = await jsm.getAccountInfo();

    expect(account.limits).toBeDefined();
  });

  it("leaves no process behind once stop() resolves", async () => {
    const server = await start();
    const { pid } = server;

    await server.stop();

    expect(() => process.kill(pid, 0)).toThrow();
  });

  it("restarts on the same port and keeps the JetStream store", async () => {
    const server = await start();
    const before = await jetstreamManager(await connectTo(server.url));
    await before.streams.add({ name: "RESTART_TEST", subjects: ["test.restart.>"] });
    const firstPid = server.pid;

    await server.restart();

    expect(server.pid).not.toBe(firstPid);
    const after = await jetstreamManager(await connectTo(server.url));
    expect((await after.streams.info("RESTART_TEST")).config.subjects).toEqual(["test.restart.>"]);
  });
});

describe("globalSetup", () => {
  it("provides the URL of a shared, reachable nats-server", async () => {
    const nc = await connect({ servers: inject("natsUrl") });
    try {
      await nc.flush();
    } finally {
      await nc.close();
    }
  });
});

describe("canConnect", () => {
  it("takes a listener for one, and a connection to itself for none", async () => {
    const port = await freePort();
    // Nobody listens: a connection whose source port is the very port it dials meets itself (a simultaneous
    // open), as a probe's may when the kernel happens to pick that port in the ephemeral range.
    const looped = netConnect({ host: "127.0.0.1", port, localAddress: "127.0.0.1", localPort: port });
    await once(looped, "connect");
    expect(connectedToItself(looped)).toBe(true);
    looped.destroy();
    expect(await canConnect("127.0.0.1", port)).toBe(false);

    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      const real = netConnect({ host: "127.0.0.1", port });
      await once(real, "connect");
      expect(connectedToItself(real)).toBe(false);
      real.destroy();
      expect(await canConnect("127.0.0.1", port)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
