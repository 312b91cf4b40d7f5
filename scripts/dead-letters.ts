// Looks at and replays the messages services gave up on (the dead letters in FTGO_DEAD_LETTERS).
//
//   npm run dead-letters -- list [--service kitchen]
//   npm run dead-letters -- replay <seq>
//
// Connects to NATS_URL (default nats://127.0.0.1:4222). Replaying sends the message back to its
// original subject; services that handled it before ignore it (same Ftgo-Message-Id).
import { parseArgs } from "node:util";
import { type DeadLetter, listDeadLetters, replayDeadLetter } from "@ftgo/platform";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { formatTable, runCli, UsageError } from "./lib/cli.js";

const USAGE = `usage:
  npm run dead-letters -- list [--service <name>]
  npm run dead-letters -- replay <seq>`;

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

async function withNats(work: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const url = process.env.NATS_URL || "nats://127.0.0.1:4222";
  const nc = await connect({ servers: url, name: "dead-letters", timeout: 3_000 }).catch((err: unknown) => {
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
    letter.reason,
  ]);
  console.log(formatTable(["SEQ", "TIME", "SERVICE", "TYPE", "ORDER", "TRIES", "REASON"], rows));
}

// DeadLetterNotFoundError, NATS unreachable, …: the error's line alone, exit 1.
void runCli(() => main(process.argv.slice(2)), { usage: USAGE });
