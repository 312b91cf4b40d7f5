// What travelled for one order, read from the services' own databases: every message each service sent for
// it, oldest first, and — when Order ran the orchestrator (SAGA_MODE=orchestration) — the order's sagas and
// their history.
//
//   npm run trace -- <orderId>          (or: make trace ORDER=<orderId>)
//
// Reads DATA_DIR (default ./data, where `make up` keeps them) or DATABASE_URL, each database read-only: safe while the mesh
// runs. A message is a row of its sender's `outbox` table (correlation id = the order id), but not forever:
// the relay deletes a row an hour after it was published (retention), so an older order shows no messages.
// Then, when Jaeger answers at JAEGER_QUERY_URL (default http://127.0.0.1:16686, where `make up` starts it), the
// order's trace: every span of every process it went through, as a tree.
import { parseArgs } from "node:util";
import { jaegerAnswers } from "@ftgo/harness/jaeger.js";
import { drawTrace, tracesOfOrder } from "@ftgo/harness/jaeger-traces.js";
import { type Database, hasTable, MessageHeader, SERVICES } from "@ftgo/platform";
import { formatTable, runCli, UsageError } from "./lib/cli.js";
import { printable } from "./lib/printable.js";
import { openServiceDatabases, serviceDataFromEnv } from "./lib/service-databases.js";

const USAGE = `usage:
  npm run trace -- <order-id>
Reads the services' databases in DATA_DIR (default ./data), then the order's spans from the
Jaeger query API at JAEGER_QUERY_URL (default http://127.0.0.1:16686) if one answers there.`;
const DEFAULT_JAEGER_QUERY_URL = "http://127.0.0.1:16686";

/** The services whose outboxes may hold the order's messages: every one with a database, in roster order. */
const SENDERS = SERVICES.filter((service) => service.database).map((service) => service.name);
/** How much of a message id is shown: enough to match a "caused by" to its message by eye. */
const SHORT_ID = 8;

type Cell = string | number | null;
type Table = { readonly header: readonly string[]; readonly rows: readonly (readonly Cell[])[] };

interface OutboxRow {
  readonly seq: number;
  readonly created_at: number;
  readonly subject: string;
  readonly message_id: string;
  readonly causation_id: string | null;
  readonly headers: string;
}

/** The order's messages across every service database, oldest first (then by each outbox's own order). */
function messagesOf(databases: ReadonlyMap<string, Database>, orderId: string): Table {
  const messages = [...databases].flatMap(([sender, db]) =>
    hasTable(db, "outbox")
      ? db
          .prepare<[string], OutboxRow>(
            "SELECT seq, created_at, subject, message_id, causation_id, headers FROM outbox WHERE correlation_id = ?",
          )
          .all(orderId)
          .map((row) => ({ sender, ...row }))
      : [],
  );
  messages.sort((a, b) => a.created_at - b.created_at || a.seq - b.seq);
  return {
    header: ["TIME", "SENDER", "SUBJECT", "ID", "CAUSED BY", "REPLY TO"],
    rows: messages.map((m) => [
      time(m.created_at),
      m.sender,
      m.subject,
      short(m.message_id),
      short(m.causation_id),
      (JSON.parse(m.headers) as Record<string, string>)[MessageHeader.ReplyTo] ?? "",
    ]),
  };
}

/** The orchestrator's records of the order (services/order/src/orchestration/saga-store.ts), if it ever ran. */
function sagasOf(order: Database | undefined, orderId: string): { sagas: Table; history: Table } | undefined {
  if (!order || !hasTable(order, "sagas") || !hasTable(order, "saga_history")) return undefined;
  const sagas = order
    .prepare<[string], Cell[]>(
      `SELECT saga_type, state, step, pending_command_id, deadline, reason, ended
       FROM sagas WHERE order_id = ? ORDER BY create_time, (SELECT min(seq) FROM saga_history h WHERE h.saga_id = sagas.saga_id)`,
    )
    .raw()
    .all(orderId);
  const history = order
    .prepare<[string], Cell[]>(
      `SELECT h.at, s.saga_type, h.from_state, h.to_state, h.message_id, h.note
       FROM saga_history h JOIN sagas s USING (saga_id) WHERE s.order_id = ? ORDER BY h.seq`,
    )
    .raw()
    .all(orderId);
  return {
    sagas: {
      header: ["TYPE", "STATE", "STEP", "PENDING COMMAND", "DEADLINE", "REASON", "ENDED"],
      rows: sagas.map(([type, state, step, pending, deadline, reason, ended]) => [
        type,
        state,
        step,
        short(pending as string | null),
        deadline === null ? "" : time(deadline as number),
        reason,
        ended ? "yes" : "no",
      ]),
    },
    history: {
      header: ["TIME", "SAGA", "FROM → TO", "MESSAGE", "NOTE"],
      rows: history.map(([at, type, from, to, message, note]) => [
        time(at as number),
        type,
        `${from ?? "(start)"} → ${to}`,
        short(message as string | null),
        note,
      ]),
    },
  };
}

/** `14:03:09.042`, local time: the messages of one saga are milliseconds apart. */
function time(ms: number): string {
  const at = new Date(ms);
  return `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, "0")}`;
}

function short(id: string | null): string {
  return id ? id.slice(0, SHORT_ID) : "";
}

function orderIdFrom(args: string[]): string {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help) throw new UsageError("");
  if (positionals.length !== 1 || positionals[0] === "") throw new UsageError("name exactly one order id");
  return positionals[0] as string;
}

/** The order's traces in Jaeger, drawn as trees; a line saying why there are none otherwise. */
async function printSpans(orderId: string): Promise<void> {
  const queryUrl = (process.env.JAEGER_QUERY_URL || DEFAULT_JAEGER_QUERY_URL).replace(/\/$/, "");
  if (!(await jaegerAnswers(queryUrl))) {
    console.log(
      `\n(no Jaeger answers at ${queryUrl}: no spans. \`make up\` starts one when \`make jaeger\` has built it)`,
    );
    return;
  }
  const traces = await tracesOfOrder(queryUrl, orderId);
  if (traces.length === 0) {
    console.log(`\n(Jaeger at ${queryUrl} has no span of order ${orderId}: was tracing on when it ran?)`);
    return;
  }
  for (const trace of traces) {
    console.log(`\n${printable(`trace ${trace.traceID} (${trace.spans.length} spans, Jaeger at ${queryUrl}):`)}`);
    for (const line of drawTrace(trace)) console.log(printable(line));
  }
}

async function main(args: string[]): Promise<void> {
  const orderId = orderIdFrom(args);
  const data = serviceDataFromEnv(process.env);
  const databases = openServiceDatabases(data, SENDERS);
  try {
    const messages = messagesOf(databases, orderId);
    const sagas = sagasOf(databases.get("order"), orderId);
    if (messages.rows.length === 0 && !sagas?.sagas.rows.length) {
      throw new Error(`no messages for order ${orderId} in ${data.dataDir}: is DATA_DIR right?`);
    }
    console.log(printable(`messages for order ${orderId} (${data.dataDir}), oldest first:`));
    // The saga records outlive the outbox rows: show them even when the messages are gone.
    console.log(
      messages.rows.length > 0
        ? formatTable(messages.header, messages.rows)
        : "(none left: outbox rows go an hour after publishing)",
    );
    if (sagas && sagas.sagas.rows.length > 0) {
      console.log(`\n${printable(`sagas of order ${orderId} (orchestration):`)}`);
      console.log(formatTable(sagas.sagas.header, sagas.sagas.rows));
      console.log(`\nsaga history:`);
      console.log(formatTable(sagas.history.header, sagas.history.rows));
    }
  } finally {
    databases.close();
  }
  await printSpans(orderId);
}

void runCli(() => main(process.argv.slice(2)), { name: "trace", usage: USAGE });
