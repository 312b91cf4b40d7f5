// A NATS cluster on this machine for the chaos tests: several nats-server processes with JetStream, one cluster
// name, full-mesh routes between them, each node its own store. Streams created with num_replicas 3 (the platform's
// FTGO_STREAM_REPLICAS) then live on all three, and a test can kill, freeze or restart one node at a time while
// clients hold all the URLs. Each node runs as nats-server.ts runs a single server (same spawn, logs and stop).
// `make up-cluster` (scripts/up.ts, NATS_NODES=3) runs one too: at fixed client ports, its stores kept in DATA_DIR.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import {
  canConnect,
  findNatsServer,
  readPortsFile,
  type ServerProcess,
  spawnServer,
  stopProcess,
} from "./nats-server.js";
import { waitFor } from "./wait.js";

/**
 * Every node pings its clients and its routes every 2 s and drops one that misses two. The default (2 min, two
 * missed) leaves a frozen node's routes up for minutes: its peers keep routing requests to its queue subscribers
 * (a direct get of the registry's bucket, a JetStream API call) and those requests go unanswered.
 */
const NODE_CONFIG = 'ping_interval: "2s"\nping_max: 2\n';

export interface NatsClusterOptions {
  /** How many nodes. Default 3 (the fewest for a JetStream quorum that survives losing one). */
  readonly nodes?: number;
  /** Interface every node listens on. Default 127.0.0.1. */
  readonly host?: string;
  /** Receives every line a node logs, with the node's name. */
  readonly onLog?: (node: string, line: string) => void;
  /** How long the cluster may take to elect a JetStream meta leader (and a restarted node to join). Default 30 s. */
  readonly startTimeoutMs?: number;
  /**
   * Each node's client port, one per node (`make up-cluster`: 4222, 4223, 4224, so that a tool's default NATS_URL
   * reaches the first node). Default: free ports. The route and monitoring ports are always free ones.
   */
  readonly clientPorts?: readonly number[];
  /**
   * Where the nodes keep their stores (`<storeDir>/n1`, …) and config, kept by stop(): a cluster started again on
   * the same dir has its streams back, as `make up`'s single server has. Default: a temp dir, removed by stop().
   */
  readonly storeDir?: string;
  /** Every node in its own process group, so that a terminal's Ctrl-C reaches them only through stop(). */
  readonly detached?: boolean;
  /** Called when a node exits other than through stop() or restart(), with its name and how. */
  readonly onCrash?: (node: string, how: string) => void;
}

/** One node of a started cluster. */
export interface NatsClusterNode {
  /** Its server_name, `n1`…: what stream info names as `cluster.leader` and in `cluster.replicas`. */
  readonly name: string;
  /** `nats://host:port`, its client URL; the same across restart(). */
  readonly url: string;
  /** Its monitoring port (`/jsz`, `/varz`). */
  readonly monitorPort: number;
  /** Its current process id (restart() changes it). */
  readonly pid: number;
  /** Sends a signal and nothing else: SIGKILL (crash), SIGSTOP/SIGCONT (freeze). */
  kill(signal: NodeJS.Signals): void;
  /**
   * Stops the node (if it still runs) and starts it again with the same ports and store; resolves once it is
   * back in the cluster and sees a JetStream meta leader. Its streams' replicas catch up after that.
   */
  restart(): Promise<void>;
}

/** A running cluster: see startNatsCluster. */
export interface NatsClusterHandle {
  /** Every node's client URL, for `connect({ servers: urls })`. */
  readonly urls: readonly string[];
  /** The URLs comma-separated, as NATS_URL takes them. */
  readonly url: string;
  readonly nodes: readonly NatsClusterNode[];
  /** The node with this server_name (a stream's `cluster.leader`); throws for an unknown name. */
  node(name: string): NatsClusterNode;
  /** Stops every node (SIGTERM, SIGKILL after 10 s) and removes the stores (unless options.storeDir named them). */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const CLUSTER_NAME = "ftgo";

interface Ports {
  readonly client: number;
  readonly cluster: number;
  readonly monitor: number;
}

/**
 * Starts a local NATS cluster with JetStream: `nodes` nats-server processes on free ports, routes from each to
 * all the others, each with a store of its own in one temp dir. Resolves once every node answers on its client
 * port and reports the same JetStream meta leader (monitoring `/jsz`); if that does not happen, every node
 * started is stopped and the temp dir removed before it rejects.
 *
 * ```ts
 * const cluster = await startNatsCluster({ nodes: 3 });
 * const nc = await connect({ servers: [...cluster.urls] });
 * // … streams with num_replicas: 3, cluster.node(leader).kill("SIGKILL") …
 * await nc.close();
 * await cluster.stop();
 * ```
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsClusterHandle> {
  const bin = await findNatsServer();
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`nodes must be ≥ 1, not ${count}`);
  const host = options.host ?? "127.0.0.1";
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  if (options.clientPorts && options.clientPorts.length !== count) {
    throw new RangeError(`clientPorts names ${options.clientPorts.length} ports for ${count} nodes`);
  }
  const keep = options.storeDir !== undefined;
  const root = options.storeDir ?? (await mkdtemp(join(tmpdir(), "ftgo-nats-cluster-")));
  await mkdir(root, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const servers = new Map<string, ServerProcess>();
  let ports: Ports[] = [];

  const launch = async (index: number): Promise<void> => {
    const name = names[index] as string;
    const own = ports[index] as Ports;
    const storeDir = join(root, name);
    const portsDir = join(root, `${name}-ports`);
    await mkdir(storeDir, { recursive: true });
    await rm(portsDir, { recursive: true, force: true }); // a killed node leaves its ports file behind
    await mkdir(portsDir, { recursive: true });
    const configFile = join(root, `${name}.conf`);
    await writeFile(configFile, NODE_CONFIG);
    const routes = ports.filter((_, i) => i !== index).map((other) => `nats://${host}:${other.cluster}`);
    const args = [
      ...["-c", configFile],
      ...["--server_name", name, "-a", host, "-p", String(own.client), "-m", String(own.monitor)],
      ...["--cluster_name", CLUSTER_NAME, "--cluster", `nats://${host}:${own.cluster}`],
      ...(routes.length > 0 ? ["--routes", routes.join(",")] : []),
      ...["-js", "-sd", storeDir, "--ports_file_dir", portsDir],
    ];
    const server = spawnServer(bin, args, {
      onLog: (line) => options.onLog?.(name, line),
      detached: options.detached,
      onCrash: options.onCrash && ((how) => options.onCrash?.(name, how)),
    });
    servers.set(name, server);
    const failed = server.exited.then((how) => {
      const problems = server.tail.filter((line) => !line.includes("[INF]"));
      const quoted = (problems.length > 0 ? problems : server.tail.slice(-5)).join("\n  ");
      throw new Error(`nats-server ${name} exited during start-up (${how}):\n  ${quoted}`);
    });
    failed.catch(() => {});
    try {
      await Promise.race([readPortsFile(portsDir, server, timeoutMs), failed]);
      await Promise.race([
        waitFor(() => canConnect(host, own.client), { timeoutMs, message: `nats-server ${name} to accept clients` }),
        failed,
      ]);
      server.expectExit = false;
    } catch (err) {
      await stopProcess(server, 1_000);
      throw err;
    }
  };

  const stopAll = async () => {
    await Promise.all([...servers.values()].map((server) => stopProcess(server, STOP_GRACE_MS)));
    if (keep) {
      await Promise.all(names.map((name) => rm(join(root, `${name}-ports`), { recursive: true, force: true })));
    } else {
      await rm(root, { recursive: true, force: true });
    }
  };

  try {
    ports = await freePorts(count, options.clientPorts);
    await Promise.all(names.map((_, i) => launch(i)));
    await waitFor(() => hasMetaLeader(host, ports), {
      timeoutMs,
      message: `the ${count} nats-servers to elect a JetStream meta leader`,
    });
  } catch (err) {
    await stopAll();
    throw err;
  }

  let stopped = false;
  const nodes: NatsClusterNode[] = names.map((name, index) => {
    const own = ports[index] as Ports;
    return {
      name,
      url: `nats://${host}:${own.client}`,
      monitorPort: own.monitor,
      get pid() {
        return servers.get(name)?.pid ?? -1;
      },
      kill(signal) {
        servers.get(name)?.child.kill(signal);
      },
      async restart() {
        if (stopped) throw new Error("restart() after stop(): start a new cluster instead");
        const server = servers.get(name);
        if (server) await stopProcess(server, STOP_GRACE_MS);
        await launch(index);
        await waitFor(() => hasMetaLeader(host, [own]), {
          timeoutMs,
          message: `nats-server ${name} to rejoin the cluster's JetStream`,
        });
      },
    };
  });
  const urls = nodes.map((node) => node.url);
  return {
    urls,
    url: urls.join(","),
    nodes,
    node(name) {
      const found = nodes.find((node) => node.name === name);
      if (!found) throw new Error(`no node ${JSON.stringify(name)} in the cluster (${names.join(", ")})`);
      return found;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}

/**
 * True when every one of these nodes' monitoring reports the same JetStream meta leader: they are clustered and
 * JetStream can take API requests. A frozen node's answer times out (a failed probe, retried by waitFor).
 */
async function hasMetaLeader(host: string, ports: readonly Ports[]): Promise<boolean> {
  const leaders = await Promise.all(
    ports.map(async ({ monitor }) => {
      const response = await fetch(`http://${host}:${monitor}/jsz`, { signal: AbortSignal.timeout(1_000) });
      const jsz = (await response.json()) as { meta_cluster?: { leader?: string } };
      return jsz.meta_cluster?.leader;
    }),
  );
  return leaders.every((leader) => leader && leader === leaders[0]);
}

/**
 * Three free ports per node (client, route, monitoring), picked outside the ephemeral range and never twice
 * (free-port.ts), for the nodes to bind; `clientPorts`, when given, replace the client ones.
 */
async function freePorts(nodes: number, clientPorts?: readonly number[]): Promise<Ports[]> {
  const picked = await Promise.all(Array.from({ length: nodes * 3 }, () => freePort()));
  return Array.from({ length: nodes }, (_, i) => ({
    client: clientPorts?.[i] ?? (picked[3 * i] as number),
    cluster: picked[3 * i + 1] as number,
    monitor: picked[3 * i + 2] as number,
  }));
}
