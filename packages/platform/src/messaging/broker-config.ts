// The nats-server configuration of the secure mode: TLS on the client port with the broker's certificate from the
// mesh CA (scripts/pki.sh), every client required to present a certificate of that CA, each certificate mapped to
// its NATS user by its e-mail SAN (verify_and_map), and the users' permissions from broker-access.ts. JetStream
// stays in the default account, so the users share the streams; what separates them is their permissions.
// secureClusterNodeConfig adds what one node of a three-node cluster needs (docker-compose.cluster.yml): its name,
// its store, and routes to its peers over TLS that only the broker's own certificate may open.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BrokerPermissions, type BrokerUsersOptions, brokerUserName, brokerUsers } from "./broker-access.js";

/** Options of {@link secureBrokerConfig}. */
export interface SecureBrokerConfigOptions extends BrokerUsersOptions {
  /** The directory scripts/pki.sh init wrote: ca.crt, and nats.crt/nats.key, the broker's own certificate. */
  readonly pkiDir: string;
}

/** The PKI directory lacks a file the broker needs. */
export class BrokerPkiError extends Error {
  override readonly name = "BrokerPkiError";
}

/**
 * The nats-server configuration file's text (JSON, which nats-server reads) for the secure mode: `tls` with
 * `verify_and_map` and `authorization.users`, one user per mesh identity with least-privilege permissions. The
 * listen address, port and JetStream store are left to the command line. Throws BrokerPkiError naming the missing
 * files when `pkiDir` does not hold ca.crt, nats.crt and nats.key.
 *
 * ```ts
 * writeFileSync(file, secureBrokerConfig({ pkiDir: ".pki" }));
 * // nats-server -c file -js -sd store -a 127.0.0.1 -p 4222; clients use tls://127.0.0.1:4222
 * ```
 */
export function secureBrokerConfig(options: SecureBrokerConfigOptions): string {
  return `${JSON.stringify(secureConfig(options), null, 2)}\n`;
}

function secureConfig({ pkiDir, ...options }: SecureBrokerConfigOptions) {
  const files = {
    ca_file: join(pkiDir, "ca.crt"),
    cert_file: join(pkiDir, "nats.crt"),
    key_file: join(pkiDir, "nats.key"),
  };
  const missing = Object.values(files).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new BrokerPkiError(
      `the secure broker needs ${missing.join(", ")}: run FTGO_PKI_DIR=${pkiDir} bash scripts/pki.sh init`,
    );
  }
  return {
    tls: { ...files, verify_and_map: true, timeout: 5 },
    authorization: {
      users: brokerUsers(options).map(({ user, permissions }) => ({ user, permissions: natsPermissions(permissions) })),
    },
  };
}

/** nats-server's form: an empty publish list denies everything rather than being left out (which allows all). */
function natsPermissions({ publish, subscribe, allowResponses }: BrokerPermissions): Record<string, unknown> {
  return {
    publish: publish.length > 0 ? { allow: publish } : { deny: [">"] },
    subscribe: subscribe.length > 0 ? { allow: subscribe } : { deny: [">"] },
    ...(allowResponses && { allow_responses: true }),
  };
}

/** One node of a broker cluster, as its peers reach it. */
export interface BrokerClusterNode {
  /** Its server_name: what JetStream names stream leaders and replicas by. */
  readonly name: string;
  /** The host its peers dial its routes at: a DNS or IP name in nats.crt (scripts/pki.sh), or TLS refuses it. */
  readonly host: string;
  /** Its route port. Default 6222. */
  readonly routePort?: number;
}

/** Options of {@link secureClusterNodeConfig}. */
export interface SecureClusterNodeConfigOptions extends SecureBrokerConfigOptions {
  /** Every node of the cluster, this one included. */
  readonly nodes: readonly BrokerClusterNode[];
  /** Which of `nodes` this configuration is for (its name). */
  readonly node: string;
  /** Its JetStream store directory. */
  readonly storeDir: string;
  /** The interface its route port listens on. Default 0.0.0.0 (a container's every interface). */
  readonly routeListenHost?: string;
  /** The cluster's name, the same on every node. Default "ftgo". */
  readonly clusterName?: string;
}

/** The route port a node listens on when none is given: nats-server's own default. */
export const DEFAULT_ROUTE_PORT = 6222;

/**
 * The configuration of one node of a secure broker cluster: secureBrokerConfig's, plus the node's `server_name`,
 * its JetStream store, and a `cluster` block with routes to every other node. Routes are TLS with the broker's
 * certificate both ways (nats-server always verifies route certificates against `ca_file`); `verify_and_map` with
 * `authorization.user` set to the broker's mapped name (nats@ftgo.mesh) admits a route only when its certificate
 * is the broker's, so a service's certificate, valid for the client port, cannot join the cluster (nats-server
 * 2.9 and later). The client port and monitoring are left to the command line, as for a single server.
 *
 * ```ts
 * const nodes = [{ name: "nats-1", host: "nats" }, { name: "nats-2", host: "nats-2" }, { name: "nats-3", host: "nats-3" }];
 * writeFileSync(file, secureClusterNodeConfig({ pkiDir: "/pki", nodes, node: "nats-2", storeDir: "/data" }));
 * ```
 */
export function secureClusterNodeConfig({
  nodes,
  node,
  storeDir,
  routeListenHost = "0.0.0.0",
  clusterName = "ftgo",
  ...options
}: SecureClusterNodeConfigOptions): string {
  const self = nodes.find((candidate) => candidate.name === node);
  if (!self) throw new RangeError(`no node ${JSON.stringify(node)} among ${nodes.map((n) => n.name).join(", ")}`);
  const base = secureConfig(options);
  const routeAt = ({ host, routePort = DEFAULT_ROUTE_PORT }: BrokerClusterNode) =>
    `${host.includes(":") ? `[${host}]` : host}:${routePort}`;
  const config = {
    server_name: self.name,
    // Peers drop a route after two missed 2 s pings, not the default two of two minutes: a frozen node's route
    // otherwise stays up for minutes, its peers routing JetStream API requests to it that go unanswered.
    ping_interval: "2s",
    ping_max: 2,
    ...base,
    jetstream: { store_dir: storeDir },
    cluster: {
      name: clusterName,
      listen: `${routeListenHost}:${self.routePort ?? DEFAULT_ROUTE_PORT}`,
      // Gossiped to the peers as this node's route address: its host name, not a container IP outside nats.crt.
      advertise: routeAt(self),
      routes: nodes.filter((other) => other !== self).map((other) => `nats-route://${routeAt(other)}`),
      tls: { ...base.tls, verify_and_map: true },
      authorization: { user: brokerUserName("nats") },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
