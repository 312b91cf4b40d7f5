// docs/interaction-styles.md promises that every command it shows runs as shown against `make up`. This test
// keeps that promise: it runs every ```sh block of the page in bash, verbatim except for the ports (the
// documented 5005x become this run's free ones), against real service processes and a real nats-server —
// one mesh per saga mode, since a block that says `needs: SAGA_MODE=orchestration make up` needs that mesh —
// with the three couriers `make up` runs answering quotes. The blocks' `npm run -s trace` reads the mesh's
// databases through DATA_DIR, as it reads `make up`'s. A block fenced as ```sh live (none today) would be
// left out: it does not finish by itself.
import { readFileSync } from "node:fs";
import { runShell, withPorts } from "@ftgo/harness/docs-shell.js";
import { findGrpcurl } from "@ftgo/harness/grpcurl.js";
import { type ProcessMesh, startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { SAGA_MODES, type SagaMode } from "@ftgo/platform";
import { COURIERS as MAKE_UP_COURIERS, SERVICE_NAMES, type ServiceName } from "@ftgo/platform/roster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PAGE = readFileSync(new URL("../docs/interaction-styles.md", import.meta.url), "utf8");
const BLOCK_TIMEOUT_MS = 60_000;

/** Every runnable block of the page with its section's heading: ```sh blocks only (```sh live is not matched). */
const BLOCKS = [...PAGE.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => ({
  section: [...PAGE.slice(0, m.index).matchAll(/^## (.+)$/gm)].at(-1)?.[1] ?? "(top)",
  block: m[1] ?? "",
}));

/** What each block must print besides exiting 0, found by a command it contains. First match wins. */
const EXPECTED_OUTPUT: [marker: string, output: (string | RegExp)[]][] = [
  [
    "SAGA_MODE=orchestration",
    [
      /ftgo\.consumer\.command\.verify_consumer\.\d+ +\S+ +\S* +ftgo\.order\.reply$/m,
      "ftgo.order.reply.consumer_verified",
      /^CreateOrderSaga +APPROVED +5 /m,
      "saga history:",
    ],
  ],
  ["DELIVERY_STATE_SCHEDULED", ["DELIVERY_STATE_SCHEDULED", '"courierId": "courier-', '"quotes"']],
  ["KitchenService/AcceptTicket", ["TICKET_STATE_ACCEPTED", "ftgo.delivery.command.schedule_delivery"]],
  ["WatchTickets", ['"openTickets"', "kitchen display of restaurant r-1", "3× Banh mi"]],
  ["WatchOrder", ["ORDER_STATE_REJECTED", "consumer c-1003 is suspended", "ORDER_STATE_APPROVED"]],
  ["npm run -s trace", ["ftgo.order.event.order_created", "ftgo.consumer.event.consumer_verified", "order_approved"]],
  ["KitchenService/GetMenu", ['"name": "Pho bo"', "ORDER_STATE_APPROVAL_PENDING", '"minorUnits": "1500"']],
];
/** What no block may print under choreography: events name no reply channel, and no orchestrator keeps records. */
const NEVER_IN_CHOREOGRAPHY = ["ftgo.order.reply", "sagas of order"];

const meshes = new Map<SagaMode, ProcessMesh>();

beforeAll(async () => {
  // No grpcurl, no test: the page's commands need it, so its absence fails the suite (as in test/grpcurl.test.ts)
  // instead of skipping it, which would let a broken page pass. `make test` installs grpcurl.
  findGrpcurl();
  await Promise.all(
    SAGA_MODES.map(async (mode) => {
      meshes.set(mode, await startProcessMesh({ env: { SAGA_MODE: mode }, couriers: MAKE_UP_COURIERS }));
    }),
  );
}, 90_000);

afterAll(async () => {
  await Promise.all([...meshes.values()].map((mesh) => mesh.stop()));
}, 60_000);

describe("docs/interaction-styles.md", () => {
  it("has a runnable block for every interaction style, and asks the reader to paste nothing", () => {
    for (const [marker] of EXPECTED_OUTPUT)
      expect(
        BLOCKS.some(({ block }) => block.includes(marker)),
        marker,
      ).toBe(true);
    expect(PAGE).not.toMatch(/paste/i);
  });

  it.each(BLOCKS.map(({ section, block }) => [section, firstCommand(block), block]))(
    "%s: runs `%s` as documented",
    async (_, _command, block) => {
      const mode: SagaMode = block.includes("SAGA_MODE=orchestration") ? "orchestration" : "choreography";
      const mesh = meshes.get(mode);
      if (!mesh) throw new Error(`no ${mode} mesh`);
      const ports = Object.fromEntries(SERVICE_NAMES.map((name) => [name, mesh[name].port])) as Record<
        ServiceName,
        number
      >;
      // DATA_DIR: where the trace reads the mesh's databases, as `make up`'s; KITCHEN_ADDR: the display's setting.
      const result = await runShell(`set -euo pipefail\n${withPorts(block, ports)}`, {
        timeoutMs: BLOCK_TIMEOUT_MS,
        env: { DATA_DIR: mesh.dataDir, KITCHEN_ADDR: mesh.kitchen.address },
      });
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      const expected = EXPECTED_OUTPUT.find(([marker]) => block.includes(marker))?.[1] ?? [];
      for (const text of expected) {
        if (typeof text === "string") expect(result.stdout, result.stdout).toContain(text);
        else expect(result.stdout, result.stdout).toMatch(text);
      }
      if (mode === "choreography") {
        for (const text of NEVER_IN_CHOREOGRAPHY) expect(result.stdout, result.stdout).not.toContain(text);
      }
    },
    BLOCK_TIMEOUT_MS + 10_000,
  );
});

/** The block's first command line, to name its test. */
function firstCommand(block: string): string {
  const line = block.split("\n").find((l) => l.trim() && !l.startsWith("#")) ?? block;
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
