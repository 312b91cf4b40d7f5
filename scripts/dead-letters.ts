// Looks at and replays the messages services gave up on (the dead letters in FTGO_DEAD_LETTERS).
//
//   npm run dead-letters -- list [--service kitchen]
//   npm run dead-letters -- replay <seq>
//   npm run dead-letters -- parked
//
// Connects to NATS_URL (default nats://127.0.0.1:4222); in the secure mode (FTGO_TLS_CA/CERT/KEY set, e.g. to
// .pki/ca.crt, .pki/admin.crt, .pki/admin.key) over TLS as that identity: the operator's. Replaying sends the message back to its
// original subject, and only to a channel subject; services that handled it before ignore it (same
// Ftgo-Message-Id). `parked` reads the services' databases (DATA_DIR, default ./data, or DATABASE_URL), read-only:
// the outbox rows a relay parked because the broker would never take them, each an order that waits.
import { parseArgs } from "node:util";
import {
  type DeadLetter,
  listDeadLetters,
  listParkedRows,
  natsServers,
  replayDeadLetter,
  SERVICES,
} from "@ftgo/platform";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { formatTable, runCli, UsageError } from "./lib/cli.js";
import { openServiceDatabases, serviceDataFromEnv } from "./lib/service-databases.js";

const USAGE = `usage:
  npm run dead-letters -- list [--service <name>]
  npm run dead-letters -- replay <seq>
  npm run dead-letters -- parked [--service <name>]
parked reads the services' databases in DATA_DIR (default ./data).`;

async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { service: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, ...rest] = positionals;
  if (values.help) throw new UsageError("");
  if (command === "list" && rest.length === 0) {
    return withNats((nc) => listDeadLetters(nc, { service: values.service }).then(printTable));
  }
  if (command === "parked" && rest.length === 0) return printParked(values.service);
  if (command === "replay" && rest.length === 1 && values.service === undefined) {
    const seq = Number(rest[0]);
    if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`"${rest[0]}" is not a dead-letter sequence number`);
    return withNats(async (nc) => {
      await replayDeadLetter(nc, seq);
      console.log(`replayed dead letter ${seq}`);
    });
  }
  throw new UsageError(command ? `cannot understand: ${args.join(" ")}` : "a command is needed");
}

/** The secure mode's credentials when FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY are all set; else none. */
function natsTlsFromEnv(env: NodeJS.ProcessEnv): { caFile: string; certFile: string; keyFile: string } | undefined {
  const [caFile, certFile, keyFile] = [env.FTGO_TLS_CA, env.FTGO_TLS_CERT, env.FTGO_TLS_KEY];
  if (!caFile && !certFile && !keyFile) return undefined;
  if (!caFile || !certFile || !keyFile) {
    throw new UsageError(
      "FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY go together: set all three (secure mode) or none",
    );
  }
  return { caFile, certFile, keyFile };
}

async function withNats(work: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const url = process.env.NATS_URL || "nats://127.0.0.1:4222";
  const tls = natsTlsFromEnv(process.env);
  const options = { servers: natsServers(url), name: "dead-letters", timeout: 3_000, ...(tls && { tls }) };
  const nc = await connect(options).catch((err: unknown) => {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot reach NATS at ${url} (${why}); is it running? Set NATS_URL to point elsewhere.`);
  });
  try {
    await work(nc);
  } finally {
    await nc.close();
  }
}

function printTable(letters: readonly DeadLetter[]): void {
  if (letters.length === 0) {
    console.log("no dead letters");
    return;
  }
  const rows = letters.map((letter) => [
    String(letter.seq),
    letter.time.toISOString(),
    letter.service,
    letter.type ?? "?",
    letter.correlationId ?? "?",
    String(letter.deliveries),
    letter.truncatedFrom === undefined
      ? letter.reason
      : `${letter.reason} (body cut from ${letter.truncatedFrom} bytes; whole: ${letter.originalStream} #${letter.originalSequence})`,
  ]);
  console.log(formatTable(["SEQ", "TIME", "SERVICE", "TYPE", "ORDER", "TRIES", "REASON"], rows));
}

/**
 * The parked outbox rows of every service's database (or of `service`'s): its SQLite file in DATA_DIR, or its schema
 * of the PostgreSQL database at DATABASE_URL.
 */
function printParked(service: string | undefined): void {
  const names = SERVICES.filter((s) => s.database && (service === undefined || s.name === service)).map((s) => s.name);
  if (names.length === 0) throw new UsageError(`no service ${JSON.stringify(service)} with a database`);
  const databases = openServiceDatabases(serviceDataFromEnv(process.env), names);
  const rows: string[][] = [];
  try {
    for (const [name, db] of databases) {
      for (const row of listParkedRows(db)) {
        rows.push([name, row.parkedAt.toISOString(), row.type, row.correlationId, row.messageId, row.reason]);
      }
    }
  } finally {
    databases.close();
  }
  if (rows.length === 0) {
    console.log("no parked outbox rows");
    return;
  }
  console.log(formatTable(["SERVICE", "PARKED", "TYPE", "ORDER", "MESSAGE", "REASON"], rows));
}

// DeadLetterNotFoundError, ReplayRefusedError, NATS unreachable, …: the error's line alone, exit 1.
void runCli(() => main(process.argv.slice(2)), { usage: USAGE });
