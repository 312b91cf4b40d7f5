// The docs' promises about `make up`, kept by a test: `make up` (scripts/up.ts) starts exactly the roster
// (nats-server, the five services, the Go Loyalty service, the gateway, the couriers) and brings it to ready; every command block the
// docs claim for this test (test/doc-claims.ts: the README's first order, the grpcurl tour, the saga and
// delivery walk-throughs, the operations page, the gateway's curl walk-through, the fault injection) works
// against it verbatim (only the ports differ) and shows what the text around it says; and Ctrl-C leaves no
// process behind. up.ts starts its own nats-server here, as on a fresh machine.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runShell, shellEnv, withPorts } from "@ftgo/harness/docs-shell.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { PROGRESS_CAP_MS } from "@ftgo/harness/readiness.js";
import { SERVICE_NODE_FLAGS } from "@ftgo/harness/service-build.js";
import { COURIERS, GATEWAY, GO_SERVICES, SERVICE_NAMES, SERVICES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, type DocCommand, type ShBlock, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const THIS_TEST = "test/make-up.test.ts";
/** How long one documented command may run. */
const COMMAND_TIMEOUT_MS = 20_000;
/** How long a command about an order's later state is repeated until it shows what the page says. */
const SETTLE_TIMEOUT_MS = 15_000;

let up: MakeUpRun;

beforeAll(async () => {
  up = await launchMakeUp({ readyTimeoutMs: PROGRESS_CAP_MS });
}, PROGRESS_CAP_MS + 30_000);

afterAll(() => up?.dispose());

/** What a documented command prints, found by a marker in its line (first match wins). */
const LINE_OUTCOMES: [marker: string, expected: Expected[]][] = [
  ['"quantity": 2}, {"menuItemId": "m-3"', ["ORDER_STATE_APPROVAL_PENDING", '"minorUnits": "1500"']],
  ["OrderService/CreateOrder", ["ORDER_STATE_APPROVAL_PENDING"]],
  ["KitchenService/GetMenu", ['"name": "Pho bo"', '"name": "Pho Hanoi"']],
  ["OrderService/WatchOrder", ["ORDER_STATE_APPROVED"]],
  ["OrderService/GetOrder", ["ORDER_STATE_APPROVED"]],
  ["KitchenService/GetTicket", ["TICKET_STATE_AWAITING_ACCEPTANCE"]],
  ["AccountingService/GetAuthorization", ["AUTHORIZATION_STATE_AUTHORIZED"]],
  ["KitchenService/AcceptTicket", ["TICKET_STATE_ACCEPTED"]],
  [
    "DeliveryService/GetDelivery", // assigned to courier-3, with the quotes of all three
    [
      /"state": "DELIVERY_STATE_SCHEDULED",\s*"courierId": "courier-3"/,
      '"courierId": "courier-2"',
      '"courierId": "courier-1"',
    ],
  ],
  ["KitchenService/WatchTickets", ['"openTickets"']],
  ["npm run kitchen-display", ["kitchen display of restaurant r-1", "open ticket(s)"]],
  [
    "npm run -s trace",
    [
      "ftgo.order.event.order_created",
      "ftgo.consumer.event.consumer_verified",
      "ticket_created",
      "credit_card_authorized",
      "order_approved",
    ],
  ],
];

/** What a block run whole, as one script, prints: found by its claim's marker. */
const SCRIPT_OUTCOMES: Record<string, string[]> = {
  "describe ftgo.order.v1.OrderService": [
    "ftgo.order.v1.OrderService",
    "ftgo.admin.v1.AdminService",
    "grpc.health.v1.Health",
    "rpc CreateOrder",
    '"orders"',
    '"status": "SERVING"',
  ],
  "dead-letters -- list": ["no dead letters"],
};

/** The marker of the gateway page's Connect curl line (issue 12's, verbatim). */
const CONNECT_CURL = `'{"restaurantId":"r-1"}'`;

/** Claims with a test of their own below, as their outcome is more than printed text. */
const OWN_TESTS = new Set(["make test", "/api/v1/auth/token", CONNECT_CURL, "AdminService/SetFault"]);

/** A block about one order (placeholders, streams to stop, errors shown under a line) runs line by line. */
function runsLineByLine(block: ShBlock): boolean {
  return block.text.includes("<the orderId") || block.text.includes("Ctrl-C") || block.text.includes("\n#   ");
}

const generic = claimsOf(THIS_TEST).filter((claim) => !OWN_TESTS.has(claim.marker));
const lineSteps = generic
  .map((claim) => shBlock(claim.page, claim.marker))
  .filter(runsLineByLine)
  .flatMap((block) => commandsOf(block).map((command) => [block.page, short(command.line), command] as const));
const scriptSteps = generic
  .filter((claim) => !runsLineByLine(shBlock(claim.page, claim.marker)))
  .map((claim) => [claim.page, claim.marker, shBlock(claim.page, claim.marker)] as const);

describe("make up", () => {
  it("starts what the README says: nats-server, the roster's services, the gateway and the couriers", () => {
    // The README's `make up` is `npm start` (Makefile), which is scripts/up.ts (package.json): what this test runs.
    expect(shBlock("README.md", "make test").text).toMatch(/^make up\b/m);
    expect(readFileSync(join(ROOT, "Makefile"), "utf8")).toMatch(/^up:.*\n\tnpm start$/m);
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.start).toBe("tsx scripts/up.ts");
    // Its direct children, less tsx's esbuild helper (up.ts itself runs with tsx; the services, from their bundles,
    // have none).
    const started = up.children();
    // services, Go services, GATEWAY, couriers, nats-server
    const expected = SERVICES.length + GO_SERVICES.length + 1 + COURIERS.length + 1;
    expect(
      started.map((child) => child.command),
      `${SERVICE_NAMES.join(", ")}, ${GO_SERVICES.map((s) => s.name)}, ${GATEWAY.name}, couriers, nats-server`,
    ).toHaveLength(expected);
    // A TypeScript service runs its bundle, built by up.ts (service-build.ts), with plain node and the services'
    // memory flags: no tsx.
    const flags = SERVICE_NODE_FLAGS.join(" ");
    for (const name of SERVICE_NAMES) {
      expect(started.map((child) => child.command)).toContainEqual(
        expect.stringMatching(`^\\S*node ${flags} node_modules/\\.cache/ftgo-services/${name}/main\\.mjs$`),
      );
    }
    // A Go service runs its own binary, built from go/cmd by up.ts: no node, no tsx.
    for (const { name } of GO_SERVICES) {
      expect(started.map((child) => child.command)).toContainEqual(expect.stringMatching(`go/bin/${name}$`));
    }
    const nats = up.natsPids();
    expect(nats).toHaveLength(1);
    expect(started.map((child) => child.pid)).toContain(nats[0]);
    for (const name of SERVICE_NAMES) expect(up.output()).toContain(`127.0.0.1:${up.ports[name]}`);
    for (const courier of COURIERS) expect(up.output()).toContain(courier.id);
  });

  it("says plainly that it is the learner's mode, which trusts every local caller (docs/security.md)", () => {
    expect(up.output()).toMatch(/security\s+learner's mode: plaintext, and every local caller is trusted/);
    expect(up.output()).toContain("SECURE=1 make up for mTLS");
  });

  it.each(lineSteps)("%s: `%s` shows what the page says", async (_page, _line, command) => {
    await runLine(command);
  });

  it.each(scriptSteps)("%s: the block with `%s` shows what the page says", async (_page, marker, block) => {
    const result = await run(`set -euo pipefail\n${withPorts(block.text, up.ports)}`);
    expect(result.code, result.stderr).toBe(0);
    for (const text of SCRIPT_OUTCOMES[marker] ?? []) expect(result.stdout).toContain(text);
  });

  it("runs every block the docs claim for it, and claims every block it runs", () => {
    const ran = new Set([...OWN_TESTS, ...Object.keys(SCRIPT_OUTCOMES)]);
    for (const claim of claimsOf(THIS_TEST)) {
      if (!runsLineByLine(shBlock(claim.page, claim.marker))) expect(ran, claim.marker).toContain(claim.marker);
    }
    for (const marker of ran) expect(claimsOf(THIS_TEST).map((claim) => claim.marker)).toContain(marker);
  });

  it("runs the gateway page's curl walk-through: approved, composed, mobile, cancelled, cached", async () => {
    const block = shBlock("docs/gateway.md", "/api/v1/auth/token");
    const script = block.text.replaceAll("127.0.0.1:8080", `127.0.0.1:${up.gatewayPort}`);
    const result = await run(`set -o pipefail\n${script}`);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const lines = result.stdout.split("\n");
    const json = (start: string) => JSON.parse(lines.find((line) => line.startsWith(start)) ?? "null");
    expect(lines.filter((line) => line.startsWith("data: ")).at(-1)).toContain('"state":"APPROVED"'); // the stream
    const composed = json('{"order":');
    expect([composed?.order.state, composed?.ticket.state, composed?.payment.state], result.stdout).toEqual([
      "APPROVED",
      "AWAITING_ACCEPTANCE",
      "AUTHORIZED",
    ]);
    const mobile = json('{"orderId":"');
    expect(mobile).toMatchObject({ status: "APPROVED", eta: null, total: { minorUnits: "1500" }, itemCount: 3 });
    expect(result.stdout).toContain('"state":"CANCEL_PENDING"'); // the cancel
    expect(result.stdout.toLowerCase()).toContain("x-cache: miss"); // the menu, first read
    // "the saga takes it to CANCELLED"
    const orderId = /"orderId":"([^"]+)"/.exec(result.stdout)?.[1];
    expect(orderId, result.stdout).toBeDefined();
    const getOrder = `grpcurl -plaintext -d '{"orderId": "${orderId}"}' 127.0.0.1:${up.ports.order} ftgo.order.v1.OrderService/GetOrder`;
    const settled = await settle(getOrder, ["ORDER_STATE_CANCELLED"]);
    expect(settled.stdout).toContain("ORDER_STATE_CANCELLED");
  }, 60_000);

  it("serves order v1 and v2 side by side: both listed, an order through each reaches APPROVED, v1 is deprecated", async () => {
    const order = `127.0.0.1:${up.ports.order}`;
    const listed = await run(`grpcurl -plaintext ${order} list`);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split("\n")).toEqual(
      expect.arrayContaining(["ftgo.order.v1.OrderService", "ftgo.order.v2.OrderService"]),
    );
    const v1 = `{"consumerId": "c-1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 1}]}`;
    const v2 = `{"idempotencyKey": "make-up-${process.pid}", "consumerId": "c-1001", "restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 1}], "delivery": {"address": {"street1": "1 Main St", "city": "Oakland", "postalCode": "94611"}}}`;
    for (const [version, body] of [
      ["v1", v1],
      ["v2", v2],
    ] as const) {
      const created = await run(
        `grpcurl -plaintext -d '${body}' ${order} ftgo.order.${version}.OrderService/CreateOrder`,
      );
      expect(created.code, created.stderr).toBe(0);
      const orderId = /"orderId": "([^"]+)"/.exec(created.stdout)?.[1];
      expect(orderId, created.stdout).toBeDefined();
      const read = `grpcurl -plaintext -d '{"orderId": "${orderId}"}' ${order} ftgo.order.${version}.OrderService/GetOrder`;
      const settled = await settle(read, ["ORDER_STATE_APPROVED"]);
      expect(settled.stdout, `${version} order ${orderId}`).toContain("ORDER_STATE_APPROVED");
    }
    const gateway = `http://127.0.0.1:${up.gatewayPort}`;
    const headers = await run(
      `TOKEN=$(curl -s -X POST ${gateway}/api/v1/auth/token -H 'content-type: application/json' -d '{"consumerId": "c-1001"}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).accessToken')
curl -s -o /dev/null -D - ${gateway}/api/v1/orders -H "authorization: Bearer $TOKEN"`,
    );
    expect(headers.code, headers.stderr).toBe(0);
    expect(headers.stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(headers.stdout).toMatch(/^deprecation: @\d+\r?$/im);
    expect(headers.stdout).toMatch(/^sunset: .+ GMT\r?$/im);
    expect(headers.stdout).toMatch(/^link: <\/api\/v2\/orders>; rel="successor-version"/im);
  }, 60_000);

  it("runs the Go Loyalty service as one of the mesh: in the ready table, grpcurl on it, its leg in the composed order", async () => {
    const loyalty = `127.0.0.1:${up.ports.loyalty}`;
    expect(up.output()).toMatch(new RegExp(`loyalty +${loyalty} +\\(Go: go/cmd/loyalty\\)`));
    const listed = await run(`grpcurl -plaintext ${loyalty} list`);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split("\n")).toEqual(
      expect.arrayContaining(["ftgo.loyalty.v1.LoyaltyService", "grpc.health.v1.Health"]),
    );
    const described = await run(`grpcurl -plaintext ${loyalty} describe ftgo.loyalty.v1.LoyaltyService`);
    expect(described.stdout, described.stderr).toContain("rpc GetOrderPoints");
    // An order through the gateway, then its composed view: the points leg comes from the Go service.
    const gateway = `http://127.0.0.1:${up.gatewayPort}`;
    const placed = await run(
      `TOKEN=$(curl -s -X POST ${gateway}/api/v1/auth/token -H 'content-type: application/json' -d '{"consumerId": "c-1001"}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).accessToken')
ID=$(curl -s -X POST ${gateway}/api/v2/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -H "Idempotency-Key: \\"loyalty-$RANDOM$RANDOM\\"" -d '{"restaurantId": "r-1", "lineItems": [{"menuItemId": "m-1", "quantity": 2}], "delivery": {"address": {"street1": "1 Main St", "city": "Oakland", "postalCode": "94611"}}}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).orderId')
echo "$TOKEN $ID"`,
    );
    expect(placed.code, placed.stderr).toBe(0);
    const [token, orderId] = placed.stdout.trim().split(" ");
    const details = await waitFor(
      async () => {
        const read = await run(`curl -s ${gateway}/api/v2/orders/${orderId} -H "authorization: Bearer ${token}"`);
        const body = JSON.parse(read.stdout || "null");
        return body?.points?.state === "EARNED" ? body : undefined;
      },
      { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 300, message: `order ${orderId} never showed its points EARNED` },
    );
    expect(details.unavailable).toEqual([]);
    // 1 point per whole unit of the total: the points the Go service says, on its own port, are the composed ones.
    const direct = await run(
      `grpcurl -plaintext -d '{"orderId": "${orderId}"}' ${loyalty} ftgo.loyalty.v1.LoyaltyService/GetOrderPoints`,
    );
    expect(direct.code, direct.stderr).toBe(0);
    const own = JSON.parse(direct.stdout).orderPoints;
    expect(details.points).toMatchObject({ orderId, consumerId: "c-1001", state: "EARNED", points: own.points });
    expect(Number(own.points)).toBe(Math.floor(Number(details.order.total.minorUnits) / 100));
  }, 60_000);

  it("answers the gateway page's Connect curl line with r-1's menu, anonymously", async () => {
    const block = shBlock("docs/gateway.md", CONNECT_CURL);
    const script = block.text.replaceAll("127.0.0.1:8080", `127.0.0.1:${up.gatewayPort}`);
    const result = await run(`set -euo pipefail\n${script}`);
    expect(result.code, result.stderr).toBe(0);
    const menu = JSON.parse(result.stdout) as { restaurant: { name: string }; menuItems: { name: string }[] };
    expect(menu.restaurant.name, result.stdout).toBe("Pho Hanoi");
    expect(menu.menuItems.map((item) => item.name)).toContain("Pho bo");
  });

  it("breaks Kitchen as the discovery page shows: priced from the last known menu, the breaker opens, then closes", async () => {
    const block = shBlock("docs/discovery-and-resilience.md", "AdminService/SetFault");
    const logFrom = up.output().length;
    const log = () => up.output().slice(logFrom);
    const kitchen = `kitchen@127.0.0.1:${up.ports.kitchen}`;
    const result = await run(`set -euo pipefail\n${withPorts(block.text, up.ports)}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.match(/"pricedFromLastKnownMenu": true/g), result.stdout).toHaveLength(2);
    expect(result.stdout).toContain('"minorUnits": "300"');
    expect(result.stdout).toContain("/ftgo.kitchen.v1.KitchenService/GetMenu"); // ListFaults shows the fault
    await waitFor(() => log().includes(`circuit open for ${kitchen}`), {
      timeoutMs: 5_000,
      message: `Order's log shows no "circuit open for ${kitchen}":\n${log()}`,
    });
    // Cleared: after the half-open pause the next order is the trial call, and its success closes the breaker.
    const order = commandsOf(block).find(({ line }) => line.includes("CreateOrder"))?.line ?? "false";
    const oneOrder = withPorts(order.replace(/^for i in 1 2; do /, "").replace(/; done$/, ""), up.ports);
    const after = await waitFor(
      async () => {
        const attempt = await run(oneOrder);
        return log().includes(`circuit closed for ${kitchen}`) ? attempt : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, message: `Order's log shows no "circuit closed for ${kitchen}"` },
    );
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).not.toContain("pricedFromLastKnownMenu");
  }, 60_000);

  it("stops everything on Ctrl-C (SIGINT), leaving no process behind", async () => {
    const tracked = [...up.processTree(), ...up.natsPids()];
    expect(await up.interrupt(30_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), {
      timeoutMs: 15_000,
      message: `still running: ${tracked.filter(alive).join(", ")}`,
    });
    expect(up.output()).toContain("everything stopped");
  });
});

/** Runs one documented line as the reader would, and checks what the page says it shows. */
async function runLine(command: DocCommand) {
  const line = withOrderId(withPorts(command.line, up.ports));
  const expected = LINE_OUTCOMES.find(([marker]) => command.line.includes(marker))?.[1] ?? [];
  if (command.line.includes("Ctrl-C")) {
    // A stream the page tells the reader to stop: it must show what the page says, then keep going until stopped.
    await streamShows(line, expected);
    return;
  }
  if (command.expectedError.length > 0) {
    // The page shows the error this command gets: the same lines must appear.
    const result = await run(line);
    expect(result.code).not.toBe(0);
    for (const text of command.expectedError) expect(result.stderr).toContain(text);
    return;
  }
  // A lookup of the order just placed may run before the saga has reached that state: a reader typing the
  // command would be a second later, so repeat it with a deadline rather than count on luck.
  const result = command.line.includes("<the orderId") ? await settle(line, expected) : await run(line);
  expect(result.code, result.stderr).toBe(0);
  for (const text of expected)
    expect(shows(result.stdout, [text]), `${line} shows ${text}:\n${result.stdout}`).toBe(true);
  rememberOrderId(result.stdout);
}

/** Runs `line` until it succeeds and shows every `expected` text, or the deadline passes (then its last result). */
function settle(line: string, expected: readonly Expected[]) {
  return waitFor(
    async () => {
      const result = await run(line);
      return result.code === 0 && shows(result.stdout, expected) ? result : undefined;
    },
    { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 200, message: line },
  ).catch(() => run(line));
}

/** A text a command must print, or a pattern it must match. */
type Expected = string | RegExp;

function shows(output: string, expected: readonly Expected[]): boolean {
  return expected.every((text) => (typeof text === "string" ? output.includes(text) : text.test(output)));
}

/** The docs' `<the orderId …>` placeholders stand for the id the last CreateOrder printed. */
let lastOrderId = "";
function rememberOrderId(stdout: string) {
  const match = /"orderId": "([^"]+)"/.exec(stdout);
  if (match && stdout.includes("APPROVAL_PENDING")) lastOrderId = match[1] as string;
}
function withOrderId(command: string): string {
  return command.replace(/<the orderId[^>]*>/g, lastOrderId);
}

/** The tools' settings under `make up`, for this run: where the trace, the display and dead-letters look. */
function toolEnv(): Record<string, string> {
  return { DATA_DIR: up.dataDir, NATS_URL: up.natsUrl, KITCHEN_ADDR: `127.0.0.1:${up.ports.kitchen}` };
}

/**
 * Runs a streaming command until its output shows every `expected` text, then stops it as the reader would
 * (Ctrl-C), its whole process group: `npm run` starts a shell and node below itself.
 */
async function streamShows(command: string, expected: readonly Expected[]): Promise<void> {
  const child = spawn("bash", ["-c", `exec ${command}`], {
    cwd: ROOT,
    env: shellEnv(toolEnv()),
    stdio: "pipe",
    detached: true,
  });
  const closed = new Promise((resolve) => child.once("close", resolve));
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  try {
    await waitFor(() => shows(out, expected), {
      timeoutMs: SETTLE_TIMEOUT_MS,
      message: `${command} did not show ${expected.join(", ")}:\n${out}`,
    });
  } finally {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGINT");
    await closed;
  }
}

/** Runs a documented line in bash, with the grpcurl that `make test` installed on PATH. */
function run(command: string) {
  return runShell(command, { timeoutMs: COMMAND_TIMEOUT_MS, env: toolEnv() });
}

function short(line: string): string {
  return line.length > 70 ? `${line.slice(0, 67)}…` : line;
}
