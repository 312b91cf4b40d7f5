// The Go Loyalty service in a real mesh: its own process beside the TypeScript services' processes, found
// through the NATS KV registry by a TypeScript mesh client, called with grpcurl, crediting the points of
// real sagas, surviving SIGKILL without touching the sagas, and leaving the registry on SIGTERM.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { type LoyaltyService, OrderPointsState } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { findGrpcurl } from "@ftgo/harness/grpcurl.js";
import {
  countBy,
  expectedPoints,
  loyaltyOutboxCounts,
  loyaltySettles,
  pointsEarnedInStream,
} from "@ftgo/harness/loyalty-audit.js";
import { buildLoyalty, loyaltyMeshClient, startLoyaltyBeside } from "@ftgo/harness/loyalty-process.js";
import { auditSagas } from "@ftgo/harness/saga-audit.js";
import { placeOrders, SAGA_PATHS, sagasSettleInDatabases, unexpectedOutcomes } from "@ftgo/harness/saga-load.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import type { ServiceInstance } from "@ftgo/harness/service-instance.js";
import { createRegistry, type MeshClient, type Registry, silentLogger } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatLogLine } from "../scripts/lib/log-format.js";
import { shBlock } from "./doc-blocks.js";

const PAGE = "docs/polyglot-loyalty.md";
const DOCUMENTED = "127.0.0.1:50056";

describe("the Go loyalty service", () => {
  it("refuses a bad configuration, naming every problem, with exit code 1", async () => {
    const binary = await buildLoyalty();
    const run = promisify(execFile)(binary, [], {
      env: { PATH: process.env.PATH, PORT: "http", FTGO_PARTITIONS: "0", REGISTRY: "static" },
      timeout: 20_000,
    });
    const failure = await run.then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('PORT="http"');
    expect(failure?.stderr).toContain('FTGO_PARTITIONS="0"');
    expect(failure?.stderr).toContain("nats-kv");
  }, 300_000);

  describe("beside a process mesh", () => {
    const fixture = useSagaMesh({}, { nats: true });
    let loyalty: ServiceInstance;
    let registry: Registry;
    let client: MeshClient<typeof LoyaltyService>;

    beforeAll(async () => {
      const { mesh, nc } = fixture;
      loyalty = await startLoyaltyBeside(mesh, { LOG_LEVEL: "info" });
      registry = await createRegistry(
        { registry: "nats-kv", ttlMs: 10_000, heartbeatMs: 3_333 },
        { nc, log: silentLogger() },
      );
      client = loyaltyMeshClient(registry);
    }, 300_000);

    afterAll(async () => {
      client?.close();
      await registry?.close();
      await loyalty?.stop();
    }, 60_000);

    it("is found in the registry by a TypeScript mesh client, which calls it", async () => {
      const instances = await waitFor(
        async () => (await registry.lookup("loyalty")).length > 0 && registry.lookup("loyalty"),
        {
          timeoutMs: 10_000,
          message: "loyalty in the registry",
        },
      );
      expect(instances).toEqual([
        expect.objectContaining({ service: "loyalty", address: "127.0.0.1", port: loyalty.port, tags: ["grpc"] }),
      ]);
      const notFound = await client.getAccount({ consumerId: "c-nobody" }).catch((err: unknown) => err);
      expect(ConnectError.from(notFound).code).toBe(Code.NotFound);
      expect(client.instances().map((instance) => instance.address)).toEqual([loyalty.address]);
    });

    it("rejects a malformed id with InvalidArgument naming the field", async () => {
      const err = await client.getOrderPoints({ orderId: "not an id" }).catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
      expect(ConnectError.from(err).rawMessage).toContain("order_id");
    });

    it("credits an approved order's points once, and none to rejected ones", async () => {
      const { clients, dbs, nc, mesh } = fixture;
      const placed = await placeOrders(clients, SAGA_PATHS.length); // one order along each of the seed's paths
      const orderIds = placed.map((order) => order.orderId);
      await sagasSettleInDatabases(dbs, orderIds, { timeoutMs: 60_000, context: () => mesh.output() });
      const expected = expectedPoints(dbs, orderIds);
      expect([...expected.values()].filter((e) => e.approved)).toHaveLength(1);
      for (const [orderId, { approved, points }] of expected) {
        const orderPoints = await loyaltySettles(client, orderId, { context: () => loyalty.output() });
        // A rejected order keeps the points it would have earned, in state NONE: nothing in the balance.
        expect(orderPoints).toMatchObject({
          orderId,
          consumerId: placed.find((order) => order.orderId === orderId)?.path.consumerId,
          state: approved ? OrderPointsState.EARNED : OrderPointsState.NONE,
          points: BigInt(points),
        });
      }
      const approvedId = [...expected].find(([, e]) => e.approved)?.[0] ?? "";
      const announced = await waitFor(
        async () => {
          const found = (await pointsEarnedInStream(nc)).filter((event) => event.orderId === approvedId);
          return found.length > 0 && found;
        },
        { timeoutMs: 15_000, message: "PointsEarned in FTGO_LOYALTY_EVENTS" },
      );
      expect(announced).toHaveLength(1);
      expect(announced[0]).toMatchObject({ points: BigInt(expected.get(approvedId)?.points ?? -1) });
      expect(announced[0]?.subject).toMatch(/^ftgo\.loyalty\.event\.points_earned\.[0-3]$/);
      expect(announced[0]?.causationId).toBeTruthy(); // the OrderApproved (or OrderCreated) that caused it
      expect(loyaltyOutboxCounts(join(mesh.dataDir, "loyalty.db")).get(approvedId)).toBe(1);
      const { account } = await client.getAccount({ consumerId: "c-1001" });
      expect(account?.pointsBalance).toBe(BigInt(expected.get(approvedId)?.points ?? -1));
      expect(account?.ordersRewarded).toBe(1n);
    }, 120_000);

    it("answers the page's grpcurl commands as documented", async () => {
      findGrpcurl();
      const result = await runShell(
        shBlock(PAGE, "LoyaltyService/GetAccount").text.replaceAll(DOCUMENTED, loyalty.address),
        {
          timeoutMs: 60_000,
        },
      );
      // The last command fails on purpose (a malformed id): everything before it succeeded.
      expect(result.code, result.stderr).not.toBe(0);
      expect(result.stdout).toMatch(/^ftgo\.loyalty\.v1\.LoyaltyService$/m);
      expect(result.stdout).toMatch(/^grpc\.health\.v1\.Health$/m);
      expect(result.stdout).toContain("rpc GetOrderPoints ( .ftgo.loyalty.v1.GetOrderPointsRequest )");
      expect(result.stdout).toMatch(/"consumerId": "c-1001"[\s\S]*"pointsBalance": "\d+"/);
      for (const line of ["Code: InvalidArgument", "Message: order_id: does not match regex pattern"]) {
        expect(result.stderr).toContain(line);
      }
    }, 90_000);

    it("leaves the sagas untouched when SIGKILLed mid-load, and credits every approved order exactly once after a restart", async () => {
      const { clients, dbs, nc, mesh } = fixture;
      const placed = await placeOrders(clients, 12, {
        concurrency: 4,
        onPlaced: async (count) => {
          if (count === 3) await loyalty.kill("SIGKILL");
        },
      });
      const orderIds = placed.map((order) => order.orderId);
      const sagas = await sagasSettleInDatabases(dbs, orderIds, { timeoutMs: 90_000, context: () => mesh.output() });
      expect(unexpectedOutcomes(sagas)).toEqual([]);
      expect(auditSagas(dbs, orderIds).violations).toEqual([]);
      expect(loyalty.running).toBe(false);

      await loyalty.restart();
      const expected = expectedPoints(dbs, orderIds);
      const approved = [...expected].filter(([, e]) => e.approved);
      expect(approved).toHaveLength(3);
      for (const [orderId, { points }] of approved) {
        const earned = await loyaltySettles(client, orderId, {
          accept: (state) => state === OrderPointsState.EARNED,
          context: () => loyalty.output(),
        });
        expect(earned.points).toBe(BigInt(points));
      }
      const outbox = loyaltyOutboxCounts(join(mesh.dataDir, "loyalty.db"));
      const announced = await waitFor(
        async () => {
          const found = (await pointsEarnedInStream(nc)).filter((event) => expected.get(event.orderId)?.approved);
          return found.length >= approved.length && found;
        },
        { timeoutMs: 30_000, message: "a PointsEarned for every approved order" },
      );
      const perOrder = countBy(announced, (event) => event.orderId);
      for (const [orderId] of approved) {
        expect(outbox.get(orderId), `${orderId}'s PointsEarned rows`).toBe(1);
        expect(perOrder.get(orderId), `${orderId}'s PointsEarned in the stream`).toBe(1);
      }
      expect(mesh.crashes()).toEqual([]);
    }, 240_000);

    it("takes its entry out of the registry on SIGTERM", async () => {
      // The running instance's id, from its start-up line; a SIGKILLed one's entry only expires with the TTL.
      const id = [...loyalty.output().matchAll(/"instanceId":"([^"]+)"/g)].at(-1)?.[1];
      expect((await registry.lookup("loyalty")).map((instance) => instance.id)).toContain(id);
      await loyalty.stop();
      expect((await registry.lookup("loyalty")).map((instance) => instance.id)).not.toContain(id);
      expect(loyalty.output()).toMatch(/loyalty \(pid \d+\) exited with code 0/);
      // Its log lines are pino's shape: `make up` renders them like the TypeScript services' lines.
      const line = loyalty
        .output()
        .split("\n")
        .find((l) => l.includes("deregistered from the service registry"));
      expect(formatLogLine(line ?? "", { color: false })).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}deregistered from the service registry key=loyalty\.loyalty-\d+-[0-9a-f]{6}$/,
      );
    }, 60_000);
  });
});
