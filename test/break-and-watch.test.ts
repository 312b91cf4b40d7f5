// docs/break-it-and-watch.md, done as the page says, under the real `make up` (scripts/up.ts): every command
// block of the page runs verbatim, in order (only the ports differ), and what the page says the reader will
// see is checked, in the command's answer or in the `make up` log. Then Ctrl-C, and no process may be left.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runShell, withPorts } from "@ftgo/harness/docs-shell.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { startServiceProcess } from "@ftgo/harness/service-process.js";
import { COURIERS, GATEWAY, GO_SERVICES, SERVICE_NAMES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSupervisor, type ProcessSpec, type Supervisor } from "../scripts/lib/supervisor.js";

const PAGE = readFileSync(new URL("../docs/break-it-and-watch.md", import.meta.url), "utf8");
/** The page's sh blocks, in order: each step below runs one of them. */
const BLOCKS = [...PAGE.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const [ORDER, STATUS, KILL, ORDERS_WHILE_DOWN, STATUS_AFTER_KILL, GET_ORDER, START] = BLOCKS;
/** Every process `make up` runs, nats-server included (it starts one here). */
const PROCESSES = [
  ...SERVICE_NAMES,
  ...GO_SERVICES.map((s) => s.name),
  GATEWAY.name,
  ...COURIERS.map((c) => c.id),
  "nats-server",
];

let up: MakeUpRun;
/** Pids as the first `status` showed them. */
let firstPids: Map<string, number>;
let killedPid: number;
let ordersWhileDown: string[] = [];
let restartedPid: number;

describe("docs/break-it-and-watch.md under make up", () => {
  beforeAll(async () => {
    up = await launchMakeUp({ readyTimeoutMs: 180_000 });
  }, 200_000);

  afterAll(() => up?.dispose());

  it("has the seven command blocks this test runs, in the order it runs them", () => {
    expect(BLOCKS).toHaveLength(7);
    expect([ORDER, STATUS, KILL, ORDERS_WHILE_DOWN, STATUS_AFTER_KILL, GET_ORDER, START]).toEqual([
      expect.stringContaining("OrderService/CreateOrder"),
      expect.stringContaining("npm run mesh -- status"),
      expect.stringContaining("npm run mesh -- kill kitchen"),
      expect.stringMatching(/for i in 1 2 3[\s\S]*CreateOrder/),
      expect.stringContaining("npm run mesh -- status"),
      expect.stringContaining("OrderService/GetOrder"),
      expect.stringContaining("npm run mesh -- start kitchen"),
    ]);
  });

  it("1. prices an order from Kitchen's menu while all is well", async () => {
    const [order] = orders(await run(ORDER));
    expect(order).toMatchObject({ state: "ORDER_STATE_APPROVAL_PENDING", total: { minorUnits: "300" } });
    expect(order?.pricedFromLastKnownMenu).toBeUndefined();
  });

  it("2. lists every process, ready, with its pid", async () => {
    const rows = statusRows(await run(STATUS));
    expect([...rows.keys()].sort()).toEqual([...PROCESSES].sort());
    for (const [name, row] of rows) expect([name, row.state, alive(Number(row.pid))]).toEqual([name, "ready", true]);
    firstPids = new Map([...rows].map(([name, row]) => [name, Number(row.pid)]));
  });

  it("3. kills Kitchen with SIGKILL, and the rest keep running", async () => {
    const answer = await run(KILL);
    const pid = Number(/kitchen \(pid (\d+)\) was killed by SIGKILL/.exec(answer)?.[1]);
    expect(pid).toBe(firstPids.get("kitchen"));
    expect(alive(pid)).toBe(false);
    killedPid = pid;
    await waitForLog(`kitchen (pid ${pid}) was killed by SIGKILL`);
    expect(up.output()).toContain("The rest keep running. It stays down; bring it back with `make start SVC=kitchen`");
  });

  it("4. prices orders from the last known menu while Kitchen is down, and the breaker opens", async () => {
    const placed = orders(await run(ORDERS_WHILE_DOWN));
    expect(placed).toHaveLength(3);
    for (const order of placed) {
      expect(order).toMatchObject({ state: "ORDER_STATE_APPROVAL_PENDING", pricedFromLastKnownMenu: true });
    }
    ordersWhileDown = placed.map((order) => order.orderId);
    await waitForLog("kitchen unavailable: pricing from the last known menu");
    await waitForLog(`circuit open for kitchen@127.0.0.1:${up.ports.kitchen}`);
    expect(up.output()).toContain(`cause="circuit open for kitchen@127.0.0.1:${up.ports.kitchen}"`);
  });

  it("5. shows Kitchen exited while the others run on, and the saga of the last order waiting", async () => {
    const rows = statusRows(await run(STATUS_AFTER_KILL));
    expect(rows.get("kitchen")).toMatchObject({ pid: "", state: "exited: killed by SIGKILL" });
    for (const name of PROCESSES.filter((n) => n !== "kitchen")) {
      expect([name, rows.get(name)]).toEqual([name, { pid: String(firstPids.get(name)), state: "ready" }]);
    }
    const [order] = orders(await run(withLastOrder(GET_ORDER)));
    expect(order).toMatchObject({ orderId: ordersWhileDown.at(-1), state: "ORDER_STATE_APPROVAL_PENDING" });
  });

  it("6. starts Kitchen again; the waiting sagas complete and traffic returns", async () => {
    const answer = await run(START);
    restartedPid = Number(/kitchen is ready \(pid (\d+)\)/.exec(answer)?.[1]);
    expect(restartedPid).not.toBe(killedPid);
    expect(alive(restartedPid)).toBe(true);
    await waitForLog(`kitchen is ready again (pid ${restartedPid}, restart 1)`);
    await waitForLog(`instance joined target=kitchen instance=127.0.0.1:${up.ports.kitchen}`, "order");
    await waitFor(async () => orders(await run(withLastOrder(GET_ORDER)))[0]?.state === "ORDER_STATE_APPROVED", {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: "the order placed while Kitchen was down approved",
    });
    await waitFor(async () => orders(await run(ORDER))[0]?.pricedFromLastKnownMenu === undefined, {
      timeoutMs: 30_000,
      intervalMs: 500,
      message: "an order priced from Kitchen's menu again",
    });
  });

  it("stops everything on Ctrl-C, the Kitchen started later included", async () => {
    const tracked = [...new Set([...up.processTree(), ...up.natsPids()])];
    // The killed instance's registry entry expires on its own (REGISTRY_TTL_MS, 10 s): Order forgets it.
    await waitForLog(`instance left target=kitchen instance=127.0.0.1:${up.ports.kitchen}`, "order", 30_000);
    const listed = PROCESSES.map((name) => (name === "kitchen" ? restartedPid : firstPids.get(name)));
    expect(tracked).toEqual(expect.arrayContaining(listed));
    expect(await up.interrupt(30_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), {
      timeoutMs: 15_000,
      message: `still running: ${tracked.filter(alive).join(", ")}`,
    });
    expect(up.output()).toContain("everything stopped");
    expect(existsSync(join(up.dataDir, "mesh.json"))).toBe(false);
  });

  it("says so when no make up is running, or one has ended without cleaning up", async () => {
    const none = await runShell(STATUS ?? "", { timeoutMs: 60_000, env: { DATA_DIR: up.dataDir } });
    expect([none.code, none.stderr]).toEqual([
      1,
      expect.stringContaining("no `make up` is running with this data dir"),
    ]);
    const stale = { pid: 2 ** 22 + 1, url: "http://127.0.0.1:1", token: "left-over" };
    writeFileSync(join(up.dataDir, "mesh.json"), JSON.stringify(stale));
    const ended = await runShell(STATUS ?? "", { timeoutMs: 60_000, env: { DATA_DIR: up.dataDir } });
    expect([ended.code, ended.stderr]).toEqual([
      1,
      expect.stringContaining("no `make up` answers at http://127.0.0.1:1"),
    ]);
  });
});

describe("the supervisor of make up, with RESTART=always", () => {
  const said: string[] = [];
  const options = { restart: "always" as const, say: (t: string) => said.push(t), shout: (t: string) => said.push(t) };
  let supervisor: Supervisor | undefined;
  afterAll(() => supervisor?.stopAll({ graceMs: 2_000 }));

  it("starts a killed process again after a backoff, leaves the others alone, and keeps one stopped with TERM", async () => {
    supervisor = createSupervisor([tinyProcess("a"), tinyProcess("b")], options);
    await supervisor.startAll();
    supervisor.supervise();
    const [a, b] = supervisor.status();
    expect(await supervisor.kill("a", "SIGKILL")).toMatchObject({ ok: true, process: { state: "exited" } });
    expect(supervisor.status()[0]?.how).toMatch(/^killed by SIGKILL; restarting in 1 s$/);
    expect(said).toContainEqual(expect.stringContaining("RESTART=always: starting it again in 1 s"));
    const again = await waitFor(() => [supervisor?.status()[0]].find((p) => p?.state === "ready"), {
      timeoutMs: 10_000,
      message: "a ready again",
    });
    expect(again).toMatchObject({ restarts: 1 });
    expect(again.pid).not.toBe(a?.pid);
    expect(supervisor.status()[1]).toEqual(b);

    expect(await supervisor.kill("a", "SIGTERM")).toMatchObject({
      message: expect.stringContaining("stopped on SIGTERM; bring it back"),
      process: { state: "stopped", how: undefined },
    });
    expect(await supervisor.start("a")).toMatchObject({ ok: true, process: { state: "ready", restarts: 2 } });
    expect(await supervisor.start("a")).toMatchObject({ ok: true, message: expect.stringContaining("nothing to do") });
    await supervisor.stopAll({ graceMs: 2_000 });
    expect(supervisor.status().map((p) => p.state)).toEqual(["stopped", "stopped"]);
  });

  it("fails the start at once when a process exits before it is ready", async () => {
    const crashing = createSupervisor([tinyProcess("c", "process.exit(3)")], options);
    await expect(crashing.startAll()).rejects.toThrow("c exited with code 3 while starting");
  });
});

/**
 * A real process that runs until told otherwise (a clean exit on SIGTERM, as a service's drain ends), or
 * runs `code`; ready once it says so, never when it exits first.
 */
function tinyProcess(name: string, code = "console.log('ready'); setInterval(() => {}, 1000)"): ProcessSpec {
  let started: Promise<void> = Promise.resolve();
  return {
    name,
    kind: "service",
    spawn() {
      let onReady = () => {};
      started = new Promise((resolve) => {
        onReady = resolve;
      });
      return startServiceProcess({
        name,
        command: process.execPath,
        args: ["-e", `process.on("SIGTERM", () => process.exit(0)); ${code}`],
        cwd: process.cwd(),
        env: process.env,
        onLine: (line) => line === "ready" && onReady(),
      });
    },
    ready: (signal) =>
      Promise.race([
        started,
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
        ),
      ]),
  };
}

/** Runs a block of the page in bash, against this run's ports and data dir; fails on a non-zero exit. */
async function run(block: string | undefined): Promise<string> {
  const result = await runShell(withPorts(block ?? "false", up.ports), {
    timeoutMs: 60_000,
    env: { DATA_DIR: up.dataDir },
  });
  expect(result.code, `${block}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The page's `<the orderId …>` stands for the last order placed while Kitchen was down. */
function withLastOrder(block: string | undefined): string {
  return (block ?? "").replace(/<the orderId[^>]*>/, ordersWhileDown.at(-1) ?? "none");
}

interface OrderJson {
  readonly orderId: string;
  readonly state: string;
  readonly pricedFromLastKnownMenu?: boolean;
  readonly total: { readonly minorUnits: string };
}

/** The orders in grpcurl's output: one pretty-printed `{"order": …}` object per call. */
function orders(stdout: string): OrderJson[] {
  return stdout
    .split(/\n(?=\{)/)
    .filter((text) => text.trim())
    .map((text) => (JSON.parse(text) as { order: OrderJson }).order);
}

/** `npm run mesh -- status` as name → {pid, state}; an empty pid for a process that is not running. */
function statusRows(stdout: string): Map<string, { pid: string; state: string }> {
  const lines = stdout.split("\n");
  const header = lines.find((line) => line.startsWith("NAME")) ?? "";
  const column = (name: string) => header.indexOf(name);
  const cell = (line: string, from: string, to: string) => line.slice(column(from), column(to)).trim();
  const rows = lines.slice(lines.indexOf(header) + 1).filter((line) => line.trim());
  return new Map(
    rows.map((line) => [
      cell(line, "NAME", "KIND"),
      { pid: cell(line, "PID", "STATE"), state: cell(line, "STATE", "RESTARTS") },
    ]),
  );
}

/** Waits for `text` in a line of the `make up` log, of one process's lines (`order │ …`) when `from` says so. */
function waitForLog(text: string, from?: string, timeoutMs = 15_000): Promise<unknown> {
  const logged = () =>
    up
      .output()
      .split("\n")
      .some((line) => line.includes(text) && (!from || line.startsWith(`${from} `)));
  return waitFor(logged, { timeoutMs, message: `make up logging ${text}${from ? ` from ${from}` : ""}` });
}
