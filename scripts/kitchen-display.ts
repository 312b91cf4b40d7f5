// A restaurant's kitchen display, in a terminal: streams KitchenService/WatchTickets and prints one line per
// ticket event — the open tickets first, then each ticket that arrives, is accepted or is cancelled, live.
//
//   npm run kitchen-display -- r-1
//   npm run kitchen-display -- --restaurant r-1
//
// Connects to KITCHEN_ADDR (default 127.0.0.1:50053, where `make up` runs Kitchen). In the secure mode
// (FTGO_TLS_CA/CERT/KEY set, e.g. to .pki/ca.crt and the operator's .pki/admin.crt/.key) it calls with mTLS,
// as that certificate, and accepts only Kitchen's. Ctrl-C stops it.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService, type Ticket, TicketState } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { createGrpcClient, createGrpcTransport, MESH_TLS_VARIABLES, type MeshTls } from "@ftgo/platform";
import { runCli, UsageError } from "./lib/cli.js";
import { printable } from "./lib/printable.js";

const USAGE = `usage:
  npm run kitchen-display -- <restaurant-id>
  npm run kitchen-display -- --restaurant <restaurant-id>
Connects to KITCHEN_ADDR (default 127.0.0.1:50053), with mTLS when FTGO_TLS_CA, FTGO_TLS_CERT and
FTGO_TLS_KEY are set (the secure mode). Ctrl-C stops it.`;

/** Streams the display of `restaurantId` until `stop` aborts (resolves) or the stream fails (rejects). */
async function display(address: string, restaurantId: string, stop: AbortSignal, tls?: MeshTls): Promise<void> {
  // Streams have no deadline: the display runs until Ctrl-C. With tls, the server must be Kitchen itself.
  const transport = createGrpcTransport({ address, defaultTimeoutMs: 0, ...(tls && { tls, serverName: "kitchen" }) });
  const kitchen = createGrpcClient(KitchenService, transport);
  console.log(`kitchen display of restaurant ${restaurantId} (Kitchen at ${address}); Ctrl-C stops`);
  try {
    for await (const { event } of kitchen.watchTickets({ restaurantId }, { signal: stop })) {
      if (event.case === "openTickets") {
        for (const ticket of event.value.tickets) console.log(ticketLine(ticket));
        console.log(`${event.value.tickets.length} open ticket(s); waiting for new ones…`);
      } else if (event.case === "ticketChanged") {
        console.log(ticketLine(event.value));
      }
    }
  } catch (err) {
    if (!stop.aborted) throw err; // Ctrl-C cancels the stream: that is how it is meant to end
  } finally {
    transport.close();
  }
}

/**
 * `12:03:09  <order id>  AWAITING_ACCEPTANCE  2× Chicken Vindaloo, 1× Garlic Naan`, escaped by `printable`:
 * the order id, the item names and the reason are other people's text.
 */
function ticketLine(ticket: Ticket): string {
  const at = ticket.updateTime ? new Date(timestampMs(ticket.updateTime)) : new Date();
  const state = TicketState[ticket.state] ?? String(ticket.state);
  const items = ticket.lineItems.map((line) => `${line.quantity}× ${line.name || line.menuItemId}`).join(", ");
  const reason = ticket.reason ? `  (${ticket.reason})` : "";
  return printable(`${at.toTimeString().slice(0, 8)}  ${ticket.orderId}  ${state.padEnd(19)}  ${items}${reason}`);
}

/** The secure mode's certificate when FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY are all set; else none. */
function meshTlsFromEnv(env: NodeJS.ProcessEnv): MeshTls | undefined {
  const [ca, cert, key] = MESH_TLS_VARIABLES.map((name) => env[name]?.trim() ?? "");
  if (!ca && !cert && !key) return undefined;
  if (!ca || !cert || !key) throw new UsageError(`${MESH_TLS_VARIABLES.join(", ")} go together: set all three or none`);
  return { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), files: { ca, cert, key } };
}

function restaurantFrom(args: string[]): string {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { restaurant: { type: "string", short: "r" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) throw new UsageError("");
  const named = [values.restaurant, ...positionals].filter((id) => id !== undefined);
  if (named.length !== 1 || named[0] === "") throw new UsageError("name exactly one restaurant, e.g. r-1");
  return named[0] as string;
}

async function main(args: string[]): Promise<void> {
  const restaurantId = restaurantFrom(args);
  const tls = meshTlsFromEnv(process.env);
  const stop = new AbortController();
  const quit = () => stop.abort();
  process.once("SIGINT", quit);
  process.once("SIGTERM", quit);
  try {
    await display(process.env.KITCHEN_ADDR || "127.0.0.1:50053", restaurantId, stop.signal, tls);
  } finally {
    process.off("SIGINT", quit);
    process.off("SIGTERM", quit);
  }
}

void runCli(() => main(process.argv.slice(2)), {
  name: "kitchen-display",
  usage: USAGE,
  explain(err) {
    const error = ConnectError.from(err);
    const hint = error.code === Code.Unavailable ? " (is Kitchen running? set KITCHEN_ADDR to point elsewhere)" : "";
    return `${Code[error.code]}: ${error.rawMessage}${hint}`;
  },
});
