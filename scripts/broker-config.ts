// The secure mode's nats-server configuration (secureBrokerConfig of @ftgo/platform: TLS with verify_and_map, one
// user per mesh identity and its subject permissions), for a nats-server that `make up` does not start: the
// `pki` service of docker-compose.yml writes it to the pki volume, and the `nats` container runs it.
//
//   node --import tsx scripts/broker-config.ts [--pki-dir DIR] [--partitions N] [--out FILE]
//
// DIR is what scripts/pki.sh init wrote (default FTGO_PKI_DIR, else .pki); the configuration names its files by
// the path given, so give the path the broker will read them at. N is the services' FTGO_PARTITIONS (default the
// environment's, else 4). Without --out the configuration goes to stdout.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { secureBrokerConfig } from "@ftgo/platform";
import { runCli, UsageError } from "./lib/cli.js";

const USAGE =
  "usage: node --import tsx scripts/broker-config.ts [--pki-dir DIR] [--partitions N] [--out FILE]\n" +
  "prints (or writes to FILE) the secure nats-server configuration for the certificates in DIR (default .pki)";

function main(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      "pki-dir": { type: "string" },
      partitions: { type: "string" },
      out: { type: "string" },
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
  const config = secureBrokerConfig({ pkiDir, partitions });
  if (values.out) writeFileSync(values.out, config);
  else process.stdout.write(config);
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
