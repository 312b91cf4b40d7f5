// The broker cluster of docker-compose.cluster.yml, run for real: three nats-server processes on this machine,
// each with the configuration secureClusterNodeConfig writes for a compose node, but at 127.0.0.1 and free ports
// (every certificate of scripts/pki.sh names 127.0.0.1). They route to each other over TLS with the broker's
// certificate; a service (order) connects with its own and keeps a stream of three replicas on its events'
// subjects; and a fifth server presenting a service's certificate (kitchen's) on its routes is refused, where the
// same server presenting the broker's is admitted, so the refusal is the certificate's and nothing else's.
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect as tlsConnect } from "node:tls";
import {
  type BrokerClusterNode,
  brokerInboxPrefix,
  ensureEventStream,
  secureClusterNodeConfig,
  streamName,
} from "@ftgo/platform";
import { findNatsServer, waitFor } from "@ftgo/platform/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, spawnServer, stopProcess } from "../packages/platform/src/testing/nats-server.js";
import { ROOT } from "./doc-blocks.js";

const HOST = "127.0.0.1";
const NODES = ["nats-1", "nats-2", "nats-3"];
/** Forming routes, electing a JetStream meta leader: seconds; far above that on a busy machine. */
const START_MS = 30_000;

interface Ports {
  readonly client: number;
  readonly route: number;
  readonly monitor: number;
}

interface Node {
  readonly name: string;
  readonly ports: Ports;
  readonly server: ServerProcess;
  readonly log: string[];
}

const dir = mkdtempSync(join(tmpdir(), "ftgo-compose-cluster-"));
const pkiDir = join(dir, "pki");
const nodes: Node[] = [];
const open: NatsConnection[] = [];
let bin: string;

/** `count` free ports, all held at once so none is handed out twice, then released for the servers to bind. */
async function freePorts(count: number): Promise<number[]> {
  const held = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, HOST, resolve);
      });
      return server;
    }),
  );
  const ports = held.map((server) => (server.address() as { port: number }).port);
  await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

async function portsFor(count: number): Promise<Ports[]> {
  const numbers = await freePorts(count * 3);
  return Array.from({ length: count }, (_, i) => ({
    client: numbers[3 * i] as number,
    route: numbers[3 * i + 1] as number,
    monitor: numbers[3 * i + 2] as number,
  }));
}

/** Starts nats-server with `config` (JSON) at `ports`; its lines go to the returned log. */
function start(name: string, config: Record<string, unknown>, ports: Ports): Node {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  const log: string[] = [];
  const args = ["-c", file, "-a", HOST, "-p", String(ports.client), "-m", String(ports.monitor)];
  const server = spawnServer(bin, args, { onLog: (line) => log.push(line) });
  server.expectExit = false;
  const node = { name, ports, server, log };
  nodes.push(node);
  return node;
}

async function stop(node: Node): Promise<void> {
  await stopProcess(node.server, 5_000);
  nodes.splice(nodes.indexOf(node), 1);
}

/** The node's monitoring `/routez`: how many routes it has. A probe: it throws until the node answers. */
async function routes(node: Node): Promise<number> {
  const response = await fetch(`http://${HOST}:${node.ports.monitor}/routez`, { signal: AbortSignal.timeout(1_000) });
  return ((await response.json()) as { num_routes: number }).num_routes;
}

/**
 * The INFO a node's route port sends once a TLS handshake, presenting `identity`'s certificate (or none), has
 * passed: a route port speaks nothing before TLS, and refuses a handshake without a certificate of the mesh CA.
 */
async function routeInfo(port: number, identity?: string): Promise<{ tls_required?: boolean }> {
  const file = (name: string) => readFileSync(join(pkiDir, name), "utf8");
  const client = identity && { cert: file(`${identity}.crt`), key: file(`${identity}.key`) };
  const socket = tlsConnect({ host: HOST, port, ca: file("ca.crt"), ...client });
  socket.setTimeout(5_000, () => socket.destroy(new Error(`no INFO from the route port ${port} within 5 s`)));
  const failed = once(socket, "error").then(([err]) => Promise.reject(err));
  const info = (async () => {
    for await (const line of createInterface({ input: socket })) {
      if (line.startsWith("INFO ")) return JSON.parse(line.slice(5));
    }
    throw new Error(`the route port ${port} closed without an INFO`);
  })();
  try {
    return await Promise.race([info, failed]);
  } finally {
    socket.destroy();
  }
}

/** A client presenting `identity`'s certificate, to every node. */
async function as(identity: string): Promise<NatsConnection> {
  const file = (name: string) => readFileSync(join(pkiDir, name), "utf8");
  const nc = await connect({
    servers: nodes.slice(0, 3).map((node) => `tls://${HOST}:${node.ports.client}`),
    inboxPrefix: brokerInboxPrefix(identity),
    tls: { ca: file("ca.crt"), cert: file(`${identity}.crt`), key: file(`${identity}.key`) },
  });
  open.push(nc);
  return nc;
}

let members: BrokerClusterNode[];
let cluster: Node[];

beforeAll(async () => {
  bin = await findNatsServer();
  execFileSync("bash", ["scripts/pki.sh", "init"], {
    cwd: ROOT,
    env: { ...process.env, FTGO_PKI_DIR: pkiDir },
    stdio: "ignore",
  });
  const ports = await portsFor(NODES.length);
  members = NODES.map((name, i) => ({ name, host: HOST, routePort: ports[i]?.route as number }));
  cluster = NODES.map((name, i) => {
    const storeDir = join(dir, `${name}-store`);
    mkdirSync(storeDir);
    const text = secureClusterNodeConfig({ pkiDir, nodes: members, node: name, storeDir, routeListenHost: HOST });
    return start(name, JSON.parse(text), ports[i] as Ports);
  });
  await waitFor(async () => (await Promise.all(cluster.map(routes))).every((count) => count === 2), {
    timeoutMs: START_MS,
    message: () =>
      `every node to route to the two others:\n${cluster.map((n) => n.log.slice(-5).join("\n")).join("\n")}`,
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => {})));
  await Promise.all([...nodes].map(stop));
  rmSync(dir, { recursive: true, force: true });
});

describe("docker-compose.cluster.yml's broker nodes, as real nats-servers", () => {
  it("route to each other over TLS only, verifying the peer's certificate", async () => {
    expect(await Promise.all(cluster.map(routes))).toEqual([2, 2, 2]);
    // 2.9's routez does not say whether a route is TLS; the route port shows it: TLS first, a certificate required.
    for (const node of cluster) {
      expect(await routeInfo(node.ports.route, "nats"), node.name).toMatchObject({ tls_required: true });
      await expect(routeInfo(node.ports.route), node.name).rejects.toThrow(/certificate/i);
    }
  });

  it("let order keep its events on a stream of three replicas, one per node", async () => {
    const nc = await as("order");
    await waitFor(() => ensureEventStream(nc, "order", 3).then(() => true), {
      timeoutMs: START_MS, // the JetStream meta leader may still be being elected
      message: "order to create its event stream with three replicas",
    });
    const ack = await jetstream(nc).publish("ftgo.order.event.cluster-test.0", "placed");
    expect(ack.stream).toBe(streamName("order", "event"));
    const { cluster: placement } = await (await jetstreamManager(nc)).streams.info(streamName("order", "event"));
    const holders = [placement?.leader, ...(placement?.replicas ?? []).map((replica) => replica.name)];
    expect(holders.sort()).toEqual(NODES);
  });

  it("refuse a server presenting a service's certificate as a route, and admit one presenting the broker's", async () => {
    const [ports] = await portsFor(1);
    const outsider: BrokerClusterNode = { name: "nats-4", host: HOST, routePort: ports?.route as number };
    const config = (cert: string) => {
      const text = secureClusterNodeConfig({
        pkiDir,
        nodes: [...members, outsider],
        node: outsider.name,
        storeDir: join(dir, "nats-4-store"),
        routeListenHost: HOST,
      });
      const { jetstream: _js, ...parsed } = JSON.parse(text); // a plain server: no JetStream peer to leave behind
      parsed.cluster.tls.cert_file = join(pkiDir, `${cert}.crt`);
      parsed.cluster.tls.key_file = join(pkiDir, `${cert}.key`);
      return parsed;
    };

    // Kitchen's certificate is of the mesh CA and names 127.0.0.1: TLS alone would let it in (it did, before the
    // cluster's authorization). Every node answers its route with an authorization error.
    const intruder = start("intruder", config("kitchen"), ports as Ports);
    try {
      await waitFor(
        () =>
          cluster.every((node) =>
            intruder.log.some(
              (line) => line.includes(`:${node.ports.route} - `) && line.includes("Authorization Violation"),
            ),
          ),
        { timeoutMs: START_MS, message: () => `each node to refuse kitchen's route:\n${intruder.log.join("\n")}` },
      );
      expect(await routes(intruder)).toBe(0);
      expect(await Promise.all(cluster.map(routes))).toEqual([2, 2, 2]);
    } finally {
      await stop(intruder);
    }

    // The same server, with the broker's certificate: admitted by all three.
    const peer = start("peer", config("nats"), ports as Ports);
    try {
      await waitFor(async () => (await Promise.all(cluster.map(routes))).every((count) => count === 3), {
        timeoutMs: START_MS,
        message: () => `the nodes to admit the broker's route:\n${peer.log.slice(-5).join("\n")}`,
      });
      expect(await routes(peer)).toBe(3);
    } finally {
      await stop(peer);
    }
  }, 90_000);
});
