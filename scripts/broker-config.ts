// The secure mode's nats-server configuration (secureBrokerConfig of @ftgo/platform: TLS with verify_and_map, one
// user per mesh identity and its subject permissions), for a nats-server that `make up` does not start: the
// `pki` service of docker-compose.yml writes it to the pki volume, and the `nats` container runs it.
//
//   node --import tsx scripts/broker-config.ts [--pki-dir DIR] [--partitions N] [--out FILE]
//   node --import tsx scripts/broker-config.ts [--pki-dir DIR] [--partitions N] --cluster HOSTS --out-dir OUT
//                                              [--store-dir STORE]
//
// DIR is what scripts/pki.sh init wrote (default FTGO_PKI_DIR, else .pki); the configuration names its files by
// the path given, so give the path the broker will read them at. N is the services' FTGO_PARTITIONS (default the
// environment's, else 4). Without --out the configuration goes to stdout.
//
// With --cluster (docker-compose.cluster.yml), one configuration per node of a cluster (secureClusterNodeConfig):
// HOSTS is the nodes' host names, comma-separated, each with `:PORT` if its route port is not 6222; the i-th node
// is named nats-<i> and its configuration written to OUT/nats-<i>.json, its JetStream store at STORE (default
// /data, each node's own volume).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BrokerClusterNode, secureBrokerConfig, secureClusterNodeConfig } from "@ftgo/platform";
import { runCli, UsageError } from "./lib/cli.js";

const USAGE =
  "usage: node --import tsx scripts/broker-config.ts [--pki-dir DIR] [--partitions N] [--out FILE]\n" +
  "       node --import tsx scripts/broker-config.ts [--pki-dir DIR] [--partitions N] --cluster HOST[:PORT],... " +
  "--out-dir OUT [--store-dir STORE]\n" +
  "prints (or writes to FILE) the secure nats-server configuration for the certificates in DIR (default .pki);\n" +
  "with --cluster, writes OUT/nats-1.json… one per node, routed to each other over TLS";

function main(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      "pki-dir": { type: "string" },
      partitions: { type: "string" },
      out: { type: "string" },
      cluster: { type: "string" },
      "out-dir": { type: "string" },
      "store-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) throw new UsageError("");
  const pkiDir = values["pki-dir"] ?? (process.env.FTGO_PKI_DIR?.trim() || ".pki");
  const partitionsText = values.partitions ?? (process.env.FTGO_PARTITIONS?.trim() || "4");
  const partitions = Number(partitionsText);
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new UsageError(`--partitions must be a whole number from 1 (got '${partitionsText}')`);
  }
  if (values.cluster !== undefined) {
    const outDir = values["out-dir"];
    if (!outDir || values.out) throw new UsageError("--cluster writes one file per node: give --out-dir, not --out");
    const nodes = clusterNodes(values.cluster);
    const storeDir = values["store-dir"] ?? "/data";
    for (const { name } of nodes) {
      const config = secureClusterNodeConfig({ pkiDir, partitions, nodes, node: name, storeDir });
      writeFileSync(join(outDir, `${name}.json`), config);
    }
    return;
  }
  if (values["out-dir"] || values["store-dir"]) throw new UsageError("--out-dir and --store-dir go with --cluster");
  const config = secureBrokerConfig({ pkiDir, partitions });
  if (values.out) writeFileSync(values.out, config);
  else process.stdout.write(config);
}

/** `nats,nats-2:6223` → nats-1 at nats:6222, nats-2 at nats-2:6223. */
function clusterNodes(text: string): BrokerClusterNode[] {
  const hosts = text.split(",").map((entry) => entry.trim());
  if (hosts.length < 2) throw new UsageError(`--cluster needs two or more hosts (got '${text}')`);
  return hosts.map((entry, i) => {
    const match = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!match?.[1]) throw new UsageError(`--cluster takes HOST or HOST:PORT, comma-separated (got '${entry}')`);
    return { name: `nats-${i + 1}`, host: match[1], ...(match[2] && { routePort: Number(match[2]) }) };
  });
}

await runCli(
  () => {
    try {
      main(process.argv.slice(2));
    } catch (err) {
      // parseArgs's own errors (an unknown option, a missing value) are usage errors too.
      if (err instanceof Error && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS")) {
        throw new UsageError(err.message);
      }
      throw err;
    }
  },
  { name: "broker-config", usage: USAGE },
);
