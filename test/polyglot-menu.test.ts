// The language benchmark (`npm run bench -- polyglot`) compares a TypeScript and a Go server on the same
// GetMenu: that is fair only if both send the same message. These tests start the benchmark's two servers
// as it does (real processes, real sockets) and Kitchen Service itself, whose seed the Go server copies.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { equals } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GetMenuResponseSchema, KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { loadKitchenConfig, startKitchen } from "@ftgo/kitchen";
import {
  createGrpcClient,
  createGrpcTransport,
  type GrpcTransport,
  type RunningService,
  silentLogger,
} from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer } from "@ftgo/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measurementOf } from "../bench/suites/polyglot/ghz.js";
import { type MenuServers, startMenuServers } from "../bench/suites/polyglot/servers.js";

let servers: MenuServers | undefined;
let nats: NatsServerHandle | undefined;
let kitchen: RunningService | undefined;
let dataDir: string | undefined;
const transports: GrpcTransport[] = [];

function kitchenClient(address: string) {
  const transport = createGrpcTransport({ address });
  transports.push(transport);
  return createGrpcClient(KitchenService, transport);
}

async function codeOf(call: Promise<unknown>): Promise<Code | "answered"> {
  try {
    await call;
    return "answered";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

beforeAll(async () => {
  // The Go build and two process starts on a busy two-core machine: a generous budget.
  servers = await startMenuServers(() => {});
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), "ftgo-polyglot-"));
  const env = { PORT: "0", DATA_DIR: dataDir, NATS_URL: nats.url, LOG_LEVEL: "silent" };
  kitchen = await startKitchen(loadKitchenConfig(env), silentLogger());
}, 240_000);

afterAll(async () => {
  for (const transport of transports) transport.close();
  await Promise.all([servers?.close(), kitchen?.stop()]);
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("the polyglot benchmark's servers", () => {
  it("answer GetMenu for r-1 with equal messages, the Go one and the TypeScript one", async () => {
    const request = { restaurantId: "r-1" };
    const [fromTs, fromGo] = await Promise.all([
      kitchenClient(servers?.ts ?? "").getMenu(request),
      kitchenClient(servers?.go ?? "").getMenu(request),
    ]);
    expect(fromGo.menuItems.map((item) => item.name)).toEqual(["Pho bo", "Banh mi", "Ca phe sua da"]);
    expect(equals(GetMenuResponseSchema, fromGo, fromTs)).toBe(true);
  });

  it("serve Kitchen Service's seed menus: the Go copy of the seed equals the real service's answers", async () => {
    for (const restaurantId of ["r-1", "r-2"]) {
      const [fromKitchen, fromGo] = await Promise.all([
        kitchenClient(kitchen?.address ?? "").getMenu({ restaurantId }),
        kitchenClient(servers?.go ?? "").getMenu({ restaurantId }),
      ]);
      expect(fromGo.restaurant?.restaurantId).toBe(restaurantId);
      expect(equals(GetMenuResponseSchema, fromGo, fromKitchen), restaurantId).toBe(true);
    }
  });

  it("answer NotFound for an unknown restaurant and InvalidArgument for a malformed id, as Kitchen does", async () => {
    for (const [restaurantId, code] of [
      ["r-404", Code.NotFound],
      ["not an id", Code.InvalidArgument],
    ] as const) {
      const codes = await Promise.all(
        [kitchen?.address, servers?.go].map((address) =>
          codeOf(kitchenClient(address ?? "").getMenu({ restaurantId })),
        ),
      );
      expect(codes, restaurantId).toEqual([code, code]);
    }
  });
});

describe("the polyglot benchmark's reading of ghz's report", () => {
  const report = {
    total: 2e9,
    statusCodeDistribution: { OK: 1000, Unavailable: 2 },
    errorDistribution: { "rpc error: code = Unavailable desc = transport is closing": 2 },
    latencyDistribution: [
      { percentage: 50, latency: 1_500_000 },
      { percentage: 99, latency: 9_000_000 },
    ],
  };

  it("counts successful calls per second and reads p50/p99, the calls cut off at the end apart", () => {
    expect(measurementOf(report, "a:1")).toEqual({
      calls: 1000,
      seconds: 2,
      callsPerSecond: 500,
      p50Ms: 1.5,
      p99Ms: 9,
      cutOff: 2,
    });
  });

  it("fails with ghz's message when a call really failed", () => {
    const failing = {
      ...report,
      errorDistribution: { "rpc error: code = NotFound desc = restaurant r-1 not found": 7 },
    };
    expect(() => measurementOf(failing, "a:1")).toThrow(
      "7 × rpc error: code = NotFound desc = restaurant r-1 not found",
    );
  });
});
