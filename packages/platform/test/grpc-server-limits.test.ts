// One client's flood of streams must not starve another client: a real server, two real connections (each
// channel on its own subchannel pool, so grpc-js cannot share one socket between them), 1,000 open WatchTickets
// streams on the first while the second asks GetMenu.
import type { ServiceImpl } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { Client, type ClientReadableStream, credentials, Metadata, status as Status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { createGrpcClient, type GrpcServer, type GrpcTransport, implement } from "../src/grpc/index.js";
import { DEFAULT_GRPC_SERVER_LIMITS } from "../src/grpc/server-limits.js";
import { waitFor } from "../src/testing/wait.js";
import { fakeKitchen, useGrpc } from "./grpc-fixtures.js";

const FLOOD = 1_000;

/** A transport on a connection of its own. */
function ownConnection(server: GrpcServer): GrpcTransport {
  const channel = new Client(server.address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  return { address: server.address, channel, defaultTimeoutMs: 30_000, close: () => channel.close() };
}

/** A kitchen whose WatchTickets streams stay open until the client cancels them; counts the open ones. */
function watchedKitchen() {
  const open = { now: 0, most: 0, started: 0 };
  const kitchen: ServiceImpl<typeof KitchenService> = fakeKitchen({
    async *watchTickets(_request, context) {
      open.started++;
      open.most = Math.max(open.most, ++open.now);
      try {
        yield { event: { case: "openTickets", value: { tickets: [] } } };
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
      } finally {
        open.now--;
      }
    },
  });
  return { kitchen, open };
}

/** `count` raw WatchTickets calls on `transport`'s connection; each records how it ended. */
function flood(transport: GrpcTransport, count: number) {
  const ended: number[] = [];
  const calls: ClientReadableStream<Buffer>[] = [];
  const identity = (buffer: Buffer) => buffer;
  for (let i = 0; i < count; i++) {
    const call = transport.channel.makeServerStreamRequest(
      "/ftgo.kitchen.v1.KitchenService/WatchTickets",
      identity,
      identity,
      Buffer.from([0x0a, 0x03, 0x72, 0x2d, 0x31]), // restaurant_id: "r-1"
      new Metadata(),
      {},
    );
    call.on("data", () => {});
    call.on("error", (error: { code: number }) => ended.push(error.code));
    calls.push(call);
  }
  return {
    ended,
    cancel(first = calls.length) {
      for (const call of calls.slice(0, first)) call.cancel();
    },
  };
}

describe("a gRPC server's per-connection limits", () => {
  const grpc = useGrpc();
  const transports: GrpcTransport[] = [];
  afterEach(() => {
    for (const transport of transports.splice(0)) transport.close();
  });
  const connect = (server: GrpcServer) => {
    const transport = ownConnection(server);
    transports.push(transport);
    return transport;
  };

  it("answers another client's unary call while one connection holds 1,000 open streams", async () => {
    const { kitchen, open } = watchedKitchen();
    const server = await grpc.serve([implement(KitchenService, kitchen)]);
    const watchers = flood(connect(server), FLOOD);
    await waitFor(() => open.now === FLOOD, { timeoutMs: 20_000 });

    const menu = await createGrpcClient(KitchenService, connect(server)).getMenu({ restaurantId: "r-1" });

    expect(menu.menuItems).toHaveLength(1);
    expect({ open: open.now, ended: watchers.ended.length }).toEqual({ open: FLOOD, ended: 0 }); // the flood still open
    expect(DEFAULT_GRPC_SERVER_LIMITS.maxConcurrentStreams).toBeGreaterThanOrEqual(FLOOD);
    watchers.cancel();
    await waitFor(() => open.now === 0);
  });

  it("holds a connection to its stream limit, queueing the rest, and still answers others at once", async () => {
    const { kitchen, open } = watchedKitchen();
    const limits = { ...DEFAULT_GRPC_SERVER_LIMITS, maxConcurrentStreams: 100 };
    const server = await grpc.serve([implement(KitchenService, kitchen)], { limits });
    const watchers = flood(connect(server), FLOOD);
    await waitFor(() => open.now === 100, { timeoutMs: 20_000 });

    const menu = await createGrpcClient(KitchenService, connect(server)).getMenu({ restaurantId: "r-1" });

    expect(menu.menuItems).toHaveLength(1);
    // Never more than the limit on the server at once; the other 900 wait on the client, none refused so far.
    expect({ most: open.most, started: open.started, ended: watchers.ended }).toEqual({
      most: 100,
      started: 100,
      ended: [],
    });
    // Queued, not lost: as the open ones end, the next waiting ones start, never more than the limit at once.
    watchers.cancel(100);
    await waitFor(() => open.started === 200 && open.now === 100, { timeoutMs: 20_000 });
    watchers.cancel();
    await waitFor(() => watchers.ended.length === FLOOD, { timeoutMs: 20_000 });
    expect(new Set(watchers.ended)).toEqual(new Set([Status.CANCELLED]));
    expect(open.most).toBe(100);
    await waitFor(() => open.now === 0);
    expect(
      (await createGrpcClient(KitchenService, connect(server)).getMenu({ restaurantId: "r-1" })).menuItems,
    ).toHaveLength(1);
  });
});

describe("the limits' settings", () => {
  it("default to DEFAULT_GRPC_SERVER_LIMITS and are read from GRPC_* variables, a wrong one reported", () => {
    expect(loadConfig({}, { service: "test", port: 0 }).grpcServer).toEqual(DEFAULT_GRPC_SERVER_LIMITS);
    const env = { GRPC_MAX_CONCURRENT_STREAMS: "64", GRPC_MAX_CONNECTION_AGE_MS: "60000" };
    expect(loadConfig(env, { service: "test", port: 0 }).grpcServer).toMatchObject({
      maxConcurrentStreams: 64,
      maxConnectionAgeMs: 60_000,
    });
    expect(() => loadConfig({ GRPC_MAX_CONCURRENT_STREAMS: "0" }, { service: "test", port: 0 })).toThrow(ConfigError);
  });
});
