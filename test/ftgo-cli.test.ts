// The Go client, `ftgo`, as docs/go-client.md promises it: built by `make ftgo`, every command of the page run
// verbatim against `make up`'s mesh (started here on free ports; the addresses reach ftgo through the
// environment, as the page says they may), its output checked against what the page shows. Plus what a user
// relies on beyond the examples: a rejected order ends watch at REJECTED, events tails live messages, leaves no
// consumer behind and never touches the services' durable consumers, and bad input costs no call.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { waitFor } from "@ftgo/platform/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, type ShBlock, shBlock, shBlocks } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAGE = "docs/go-client.md";
const FTGO = join(ROOT, "go/bin/ftgo");
/** A cold `go build` of grpc-go and nats.go on a busy two-core machine. */
const BUILD_TIMEOUT_MS = 300_000;
/** One command: an order waits for its saga, which a busy machine may slow down. */
const COMMAND_TIMEOUT_MS = 60_000;
const PLACEHOLDER = "<the orderId ftgo order printed>";
/** The README's block: the same order from Go, and GetMenu over Connect at the gateway. */
const README_MARKER = "go/bin/ftgo order";

let up: MakeUpRun;
let nc: NatsConnection;
/** The lines of the page that ran, to prove at the end that every one did. */
const ran = new Set<string>();

beforeAll(async () => {
  up = await launchMakeUp({ readyTimeoutMs: PROGRESS_CAP_MS });
  nc = await connect({ servers: up.natsUrl });
}, PROGRESS_CAP_MS + 30_000);

afterAll(async () => {
  await nc?.close();
  up?.dispose();
});

/** The mesh's addresses, as a user would export them. */
function meshEnv(): Record<string, string> {
  return {
    FTGO_ORDER_ADDR: `127.0.0.1:${up.ports.order}`,
    FTGO_KITCHEN_ADDR: `127.0.0.1:${up.ports.kitchen}`,
    NATS_URL: up.natsUrl,
  };
}

function run(command: string, timeoutMs = COMMAND_TIMEOUT_MS) {
  return runShell(command, { timeoutMs, env: meshEnv() });
}

/** The page's block holding `marker`: the page's claim says this file runs every block of it. */
function block(marker: string): ShBlock {
  const found = shBlocks(PAGE).find((b) => b.text.includes(marker));
  if (!found) throw new Error(`no sh block with ${marker} in ${PAGE}`);
  return found;
}

/** Runs the one command line of the block holding `marker`, with the order id in place of the placeholder. */
async function runLine(marker: string, orderId = "") {
  const lines = commandsOf(block(marker)).map((c) => c.line);
  const line = lines.find((l) => l.includes(marker)) as string;
  ran.add(line);
  return run(line.replaceAll(PLACEHOLDER, orderId));
}

/** The order id and the state lines `ftgo order` or `ftgo watch` printed. */
function statesOf(stdout: string): string[] {
  return [...stdout.matchAll(/^\d\d:\d\d:\d\d\.\d{3} {2}\S+ {2}([A-Z_]+)/gm)].map((m) => m[1] as string);
}

let orderId = "";

describe("ftgo, the Go client (docs/go-client.md)", () => {
  it("is claimed for this file, the whole page", () => {
    expect(claimsOf("test/ftgo-cli.test.ts")).toEqual([
      { page: "README.md", marker: README_MARKER, runners: ["test/ftgo-cli.test.ts"] },
      { page: PAGE, marker: "*", runners: ["test/ftgo-cli.test.ts"] },
    ]);
  });

  it("builds with make ftgo into go/bin/ftgo, and prints its usage", {
    timeout: BUILD_TIMEOUT_MS + 10_000,
  }, async () => {
    const build = block("make ftgo");
    for (const { line } of commandsOf(build)) ran.add(line);
    const result = await run(`set -euo pipefail\n${build.text}`, BUILD_TIMEOUT_MS);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("usage: ftgo <command>");
    for (const command of ["menu", "order", "watch", "events"]) expect(result.stdout).toContain(`  ${command} `);
  });

  it("menu r-1 lists Pho Hanoi's items with their prices", async () => {
    const result = await runLine("ftgo menu r-1");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Pho Hanoi (r-1, open)");
    expect(result.stdout).toMatch(/^m-1\s+Pho bo\s+USD 6\.50$/m);
    expect(result.stdout).toMatch(/^m-2\s+Banh mi\s+USD 3\.00$/m);
    expect(result.stdout).toMatch(/^m-3\s+Ca phe sua da\s+USD 2\.00$/m);
  });

  it("order creates the order through v2 and waits until the saga approves it", async () => {
    const result = await runLine("ftgo order --consumer c-1001");
    expect(result.code, result.stderr).toBe(0);
    const created = /^order (\S+) {2}APPROVAL_PENDING {2}total USD 15\.00 {2}\(idempotency key [0-9a-f-]{36}\)$/m.exec(
      result.stdout,
    );
    expect(created, result.stdout).not.toBeNull();
    orderId = created?.[1] as string;
    expect(result.stdout).toMatch(/^ {2}2 × m-1\s+Pho bo\s+USD 13\.00$/m);
    expect(result.stdout).toMatch(/^ {2}1 × m-3\s+Ca phe sua da\s+USD 2\.00$/m);
    const states = statesOf(result.stdout);
    expect(states.at(-1)).toBe("APPROVED");
    expect(["APPROVED", "APPROVAL_PENDING,APPROVED"]).toContain(states.join(","));
    // The order is Order Service's, as any other client sees it: v2, with the delivery address ftgo sent.
    const order = await run(
      `grpcurl -plaintext -d '{"orderId": "${orderId}"}' 127.0.0.1:${up.ports.order} ftgo.order.v2.OrderService/GetOrder`,
    );
    expect(order.stdout).toContain('"state": "ORDER_STATE_APPROVED"');
    expect(order.stdout).toContain('"street1": "1 Main St"');
  });

  it("watch prints the order's state and exits 0 at the saga's outcome", async () => {
    const result = await runLine("ftgo watch", orderId);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} {2}${orderId} {2}APPROVED$`, "m"));
    expect(statesOf(result.stdout)).toEqual(["APPROVED"]);
  });

  it("watch follows a running saga through its states in order, to REJECTED with the reason", async () => {
    const placed = await run(`${FTGO} order --no-wait --consumer c-1002 --restaurant r-1 m-2`);
    expect(placed.code, placed.stderr).toBe(0);
    const id = /^order (\S+)/m.exec(placed.stdout)?.[1] as string;
    expect(statesOf(placed.stdout)).toEqual([]); // --no-wait: no watching
    const result = await run(`${FTGO} watch ${id}`);
    expect(result.code, result.stderr).toBe(0);
    expect(["REJECTED", "APPROVAL_PENDING,REJECTED"]).toContain(statesOf(result.stdout).join(","));
    expect(result.stdout).toContain("REJECTED: card ending 0002 was declined");
  });

  it("events prints the order's saga, OrderCreated to the two approvals, decoded from protobuf", async () => {
    const before = await consumers();
    const result = await runLine("ftgo events --order", orderId);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toContain(`  order=${orderId}  {"orderId":"${orderId}"`);
    expect(lines[0]).toMatch(/^ftgo\.order\.event\.order_created\.\d+ {2}ftgo\.order\.v1\.OrderCreated {2}/);
    expect(lines[0]).toContain('"consumerId":"c-1001","restaurantId":"r-1"');
    expect(lines[0]).toContain('"total":{"currencyCode":"USD","minorUnits":"1500"}');
    expect(lines[0]).toContain('"deliveryAddress":{"street1":"1 Main St","city":"Oakland","postalCode":"94611"}');
    const types = lines.map((line) => line.split("  ")[1]);
    // Order and Kitchen both react to CreditCardAuthorized, concurrently: the two approvals close the saga in
    // either order, and nothing the saga published comes after them.
    expect(types.slice(-2).sort()).toEqual(["ftgo.kitchen.v1.TicketApproved", "ftgo.order.v1.OrderApproved"]);
    expect(lines.find((line) => line.includes("ftgo.order.v1.OrderApproved"))).toMatch(
      /^ftgo\.order\.event\.order_approved\.\d+ {2}ftgo\.order\.v1\.OrderApproved {2}/,
    );
    expect(types.slice(1, 4).sort()).toEqual([
      "ftgo.accounting.v1.CreditCardAuthorized",
      "ftgo.consumer.v1.ConsumerVerified",
      "ftgo.kitchen.v1.TicketCreated",
    ]);
    // Ordered consumers only, deleted on exit: the services' durable consumers are the same, no new one is left.
    const after = await consumers();
    expect(after.filter(isDurable)).toEqual(before.filter(isDurable));
    expect(after.length).toBeLessThanOrEqual(before.length);
  });

  it("events tails new messages as they are published, until Ctrl-C", async () => {
    const before = await consumers();
    const tail = spawn(FTGO, ["events", "--new"], {
      env: { ...process.env, ...meshEnv() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    tail.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => tail.once("close", resolve));
    try {
      // Its ordered consumer on Order's events exists once it listens: only then can a message be new to it.
      await waitFor(
        async () => (await consumers()).some((c) => c.startsWith("FTGO_ORDER_EVENTS/") && !before.includes(c)),
        {
          timeoutMs: 20_000,
          message: "ftgo events --new creating its consumers",
        },
      );
      const placed = await run(`${FTGO} order --no-wait --consumer c-1001 --restaurant r-1 m-2`);
      const id = /^order (\S+)/m.exec(placed.stdout)?.[1] as string;
      const created = new RegExp(`ftgo\\.order\\.v1\\.OrderCreated {2}order=${id} {2}\\{"orderId":"${id}"`);
      const approved = new RegExp(`ftgo\\.order\\.v1\\.OrderApproved {2}order=${id} `);
      await waitFor(() => approved.test(out), { timeoutMs: 30_000, message: `events showing ${id} approved:\n${out}` });
      expect(out).toMatch(created);
      expect(out.search(created)).toBeLessThan(out.search(approved));
      tail.kill("SIGINT");
      expect(await exited).toBe(0); // Ctrl-C is how a tail ends
    } finally {
      if (tail.exitCode === null && tail.signalCode === null) tail.kill("SIGKILL");
      await exited;
    }
  }, 60_000);

  it("refuses a bad item before any call (exit 2) and names an unknown order (exit 1)", async () => {
    const commands = commandsOf(block("m-1x0"));
    expect(commands.map((c) => c.expectedError.length)).toEqual([1, 1]);
    const expectedCodes = [2, 1];
    for (const [i, { line, expectedError }] of commands.entries()) {
      ran.add(line);
      const result = await run(line);
      expect(result.code, `${line}\n${result.stderr}`).toBe(expectedCodes[i]);
      expect(result.stdout).toBe("");
      for (const text of expectedError) expect(result.stderr).toContain(text);
    }
    // A bad item costs no call: with no Order Service at that address it still fails as bad usage.
    const offline = await runShell(`${FTGO} order --consumer c-1001 --restaurant r-1 m-1x0`, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      env: { FTGO_ORDER_ADDR: "127.0.0.1:1" },
    });
    expect(offline.code).toBe(2);
    // A service that is down: one line naming the call and the gRPC code.
    const down = await runShell(`${FTGO} menu r-1`, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      env: { FTGO_KITCHEN_ADDR: "127.0.0.1:1" },
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^ftgo: get the menu of r-1: Unavailable: .+\n$/);
    const unknown = await run(`${FTGO} bake`);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ftgo: unknown command "bake"');
  });

  it(
    "runs the README's block: the order from Go reaches APPROVED, and the Connect curl line answers r-1's menu",
    async () => {
      const readme = shBlock("README.md", README_MARKER);
      const script = readme.text.replaceAll("127.0.0.1:8080", `127.0.0.1:${up.gatewayPort}`);
      const result = await run(`set -euo pipefail\n${script}`, BUILD_TIMEOUT_MS);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^order \S+ {2}APPROVAL_PENDING {2}total USD 15\.00/m);
      expect(statesOf(result.stdout).at(-1)).toBe("APPROVED");
      const menu = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null");
      expect(menu?.restaurant?.name, result.stdout).toBe("Pho Hanoi");
    },
    BUILD_TIMEOUT_MS + 10_000,
  );

  it("ran every command line of the page", () => {
    const lines = shBlocks(PAGE).flatMap((b) => commandsOf(b).map((c) => c.line));
    expect([...ran].sort()).toEqual([...lines].sort());
  });
});

function isDurable(consumer: string): boolean {
  return consumer.endsWith(":durable");
}

/** Every consumer on the mesh's saga streams (name: durable or not), sorted. */
async function consumers(): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const stream of jsm.streams.list()) {
    if (!stream.config.name.startsWith("FTGO_")) continue;
    for await (const c of jsm.consumers.list(stream.config.name)) {
      names.push(`${stream.config.name}/${c.name}:${c.config.durable_name ? "durable" : "ephemeral"}`);
    }
  }
  return names.sort();
}
