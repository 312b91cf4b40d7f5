// The connection to the message broker. Everything asynchronous in ftgo goes through NATS JetStream,
// which buffers messages while their receivers are away; a service, in turn, must survive the broker
// being away. So the connection never gives up: the outbox keeps events meanwhile, and the consumers
// resume where their durables left off.
import { X509Certificate } from "node:crypto";
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { MeshTls } from "../mesh-tls.js";
import { brokerInboxPrefix } from "./broker-access.js";

export interface ConnectNatsOptions {
  /** `nats://host:port`, or several comma-separated: the servers of a cluster (see natsServers). */
  readonly url: string;
  /** The connection's name, shown by the server's monitoring: the service name. */
  readonly name: string;
  readonly log: Logger;
  /**
   * The secure mode's credentials (config.tls): the connection is TLS, trusts only the mesh CA, and presents
   * this process's certificate, which the broker maps to its NATS user and that user's permissions
   * (broker-access.ts). Absent, the learner's mode: plaintext, no credential.
   */
  readonly tls?: MeshTls;
}

/** How often a connection to a cluster pings its server; two unanswered pings and it moves to another. */
const CLUSTER_PING_INTERVAL_MS = 3_000;
/** How long a connection to a cluster waits for a server's first answer (nats.js: 20 s) before trying the next. */
const CLUSTER_DIAL_MS = 3_000;

/**
 * Connects to NATS and stays connected: it waits for a server that is not up yet, reconnects forever
 * after losing one, and logs each disconnect and reconnect. Publishing while disconnected does not
 * fail at once (the client buffers, JetStream acks time out), which is why the relay retries and
 * JetStream de-duplicates.
 */
export async function connectNats({ url, name, log, tls }: ConnectNatsOptions): Promise<NatsConnection> {
  log.info(tls ? { url, tls: true } : { url }, "connecting to NATS");
  const servers = natsServers(url);
  const nc = await connect({
    servers,
    name,
    waitOnFirstConnect: true, // a service may start before the broker
    maxReconnectAttempts: -1, // and outlive it: never give up
    reconnectTimeWait: 1_000,
    // A cluster's server that hangs (frozen, partitioned) keeps its socket open: only unanswered pings tell, and
    // its port still accepts connections that never get an answer. With others to fail over to, notice within
    // seconds rather than nats.js's default 2 × 2 minutes, and give up on a silent one after 3 s, not 20 s.
    ...(servers.length > 1 && { pingInterval: CLUSTER_PING_INTERVAL_MS, maxPingOut: 2, timeout: CLUSTER_DIAL_MS }),
    ...(tls && { tls: natsTls(tls), inboxPrefix: brokerInboxPrefix(identityOf(tls)) }),
  });
  log.info({ server: nc.getServer() }, "connected to NATS");
  void logStatus(nc, log);
  return nc;
}

/**
 * The servers NATS_URL names: one URL, or a cluster's URLs separated by commas (as nats.go takes them), for
 * `connect({ servers })`. The client connects to any of them and fails over to the others; nats.js takes a
 * string as one URL, so the list is split here.
 *
 * ```ts
 * natsServers("nats://a:4222, nats://b:4222"); // ["nats://a:4222", "nats://b:4222"]
 * ```
 */
export function natsServers(url: string): string[] {
  return url
    .split(",")
    .map((server) => server.trim())
    .filter((server) => server.length > 0);
}

/**
 * nats.js's TLS options for a mesh identity: the CA to trust the broker by, and the certificate (with its
 * key) that the broker maps to this process's NATS user. For any NATS client of the mesh, not only connectNats.
 */
export function natsTls(tls: MeshTls): NonNullable<ConnectionOptions["tls"]> {
  return { ca: tls.ca.toString("utf8"), cert: tls.cert.toString("utf8"), key: tls.key.toString("utf8") };
}

/** The identity a mesh certificate names: its subject's CN (scripts/pki.sh: /O=ftgo/OU=<role>/CN=<name>). */
export function identityOf(tls: MeshTls): string {
  const subject = new X509Certificate(tls.cert).subject;
  const cn = /^CN=(.+)$/m.exec(subject)?.[1];
  if (!cn) throw new Error(`the certificate ${tls.files.cert} names no CN (subject ${JSON.stringify(subject)})`);
  return cn;
}

async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case "disconnect":
        log.warn({ server: status.server }, "NATS connection lost; reconnecting");
        break;
      case "reconnect":
        log.info({ server: status.server }, "NATS connection restored");
        break;
      case "error":
        log.error({ err: status.error }, "NATS error");
        break;
      case "slowConsumer":
        log.warn({ subject: status.sub.getSubject(), pending: status.pending }, "NATS slow consumer");
        break;
    }
  }
}
