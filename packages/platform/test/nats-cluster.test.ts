// startNatsCluster against real nats-server processes: three nodes that elect a JetStream meta leader, hold a
// stream's three replicas, take a killed node back on its own store, and drop a frozen node's routes in seconds.
// And a cluster at given client ports whose stores a second start finds again (`make up-cluster`'s). And NATS_URL's
// list of servers.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { natsServers } from "../src/messaging/nats.js";
import { type NatsClusterHandle, startNatsCluster, waitFor } from "../src/testing/index.js";

describe("startNatsCluster", () => {
  let cluster: NatsClusterHandle | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("starts three clustered nodes that keep a stream's three replicas, and a restarted node catches up", async () => {
    cluster = await startNatsCluster({ nodes: 3 });
    expect(cluster.urls).toHaveLength(3);
    expect(natsServers(cluster.url)).toEqual(cluster.urls);
    const nc = await connect({ servers: [...cluster.urls] });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "CLUSTER_TEST", subjects: ["cluster.test.>"], num_replicas: 3 });
      const js = jsm.jetstream();
      for (let i = 0; i < 5; i++) await js.publish("cluster.test.a", `m${i}`);
      const { cluster: placement } = await jsm.streams.info("CLUSTER_TEST");
      const leader = placement?.leader ?? "";
      expect(placement?.replicas?.map((replica) => replica.name).sort()).toEqual(
        ["n1", "n2", "n3"].filter((name) => name !== leader),
      );

      const follower = cluster.nodes.find((node) => node.name !== leader);
      if (!follower) throw new Error("no follower");
      const pid = follower.pid;
      follower.kill("SIGKILL");
      // Two of three are still a quorum. Retried: this client may have been on the killed node, and reconnects;
      // the message id keeps a retry whose first try was stored from storing it twice.
      await waitFor(() => js.publish("cluster.test.a", "while one is down", { msgID: "down-1", timeout: 2_000 }), {
        timeoutMs: 20_000,
        message: "a publish with one node down",
      });
      await follower.restart();
      expect(follower.pid).not.toBe(pid);
      await waitFor(
        async () =>
          (await jsm.streams.info("CLUSTER_TEST")).cluster?.replicas?.find((r) => r.name === follower.name)?.current,
        { timeoutMs: 20_000, message: `${follower.name} to be a current replica again` },
      );
      expect((await jsm.streams.info("CLUSTER_TEST")).state.messages).toBe(6);
    } finally {
      await nc.close();
    }
  }, 60_000);

  it("drops a frozen node's routes within seconds, and takes it back when it thaws", async () => {
    cluster = await startNatsCluster({ nodes: 3 });
    const [frozen, peer] = cluster.nodes;
    if (!frozen || !peer) throw new Error("fewer than two nodes");
    const routesOf = async (node: typeof peer) => {
      const response = await fetch(`http://127.0.0.1:${node.monitorPort}/routez`);
      return ((await response.json()) as { num_routes: number }).num_routes;
    };
    await waitFor(async () => (await routesOf(peer)) === 2, {
      timeoutMs: 20_000,
      message: `${peer.name}'s two routes`,
    });
    frozen.kill("SIGSTOP");
    try {
      // nats-server's default (ping every 2 min, two missed) would keep the route for minutes.
      await waitFor(async () => (await routesOf(peer)) === 1, {
        timeoutMs: 30_000,
        message: `${peer.name} to drop its route to the frozen ${frozen.name}`,
      });
    } finally {
      frozen.kill("SIGCONT");
    }
    await waitFor(async () => (await routesOf(peer)) === 2, {
      timeoutMs: 30_000,
      message: `${peer.name} to route to ${frozen.name} again`,
    });
  }, 90_000);

  it("listens at the client ports given, and keeps its streams in storeDir across a stop and a start", async () => {
    const storeDir = await mkdtemp(join(tmpdir(), "ftgo-cluster-store-"));
    try {
      const clientPorts = await freeClientPorts(3);
      cluster = await startNatsCluster({ nodes: 3, storeDir, clientPorts });
      expect(cluster.urls).toEqual(clientPorts.map((port) => `nats://127.0.0.1:${port}`));
      const stream = async (publish: number) => {
        const nc = await connect({ servers: [...(cluster as NatsClusterHandle).urls] });
        try {
          const jsm = await jetstreamManager(nc);
          await jsm.streams.add({ name: "KEPT", subjects: ["kept.>"], num_replicas: 3 });
          for (let i = 0; i < publish; i++) await jsm.jetstream().publish("kept.a", `m${i}`);
          return (await jsm.streams.info("KEPT")).state.messages;
        } finally {
          await nc.close();
        }
      };
      expect(await stream(2)).toBe(2);
      await cluster.stop();
      expect((await readdir(storeDir)).sort()).toEqual(expect.arrayContaining(["n1", "n2", "n3"]));
      cluster = await startNatsCluster({ nodes: 3, storeDir, clientPorts });
      // The stream's own group elects a leader after the meta leader is up: its first calls may time out.
      expect(await waitFor(() => stream(1).catch(() => undefined), { timeoutMs: 30_000, message: "KEPT again" })).toBe(
        3,
      );
    } finally {
      await cluster?.stop();
      cluster = undefined;
      await rm(storeDir, { recursive: true, force: true });
    }
  }, 90_000);

  it("refuses a cluster of no nodes before starting anything", async () => {
    await expect(startNatsCluster({ nodes: 0 })).rejects.toThrow(RangeError);
  });
});

/** `count` free ports, held open together so that none is handed out twice, then released. */
async function freeClientPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return server;
    }),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

describe("natsServers", () => {
  it("splits NATS_URL's comma-separated servers, trimming blanks", () => {
    expect(natsServers("nats://a:4222")).toEqual(["nats://a:4222"]);
    expect(natsServers(" nats://a:4222, nats://b:4223 ,,")).toEqual(["nats://a:4222", "nats://b:4223"]);
  });
});
