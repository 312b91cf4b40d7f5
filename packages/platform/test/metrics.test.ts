// The metrics a process serves at /metrics, read the way Prometheus reads them: over HTTP, in its text format.
// Each series is checked to move with what happens (a call served, a breaker opening), not only to exist.
import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrpcClient, implement } from "../src/grpc/index.js";
import { silentLogger } from "../src/log.js";
import { createInstanceBreaker } from "../src/resilience/breaker.js";
import { type MetricsServer, serveMetrics } from "../src/telemetry/metrics-server.js";
import { fakeKitchen, rejection, useGrpc } from "./grpc-fixtures.js";

let server: MetricsServer;

beforeAll(async () => {
  server = await serveMetrics({ METRICS_PORT: "0" }, silentLogger());
});
afterAll(() => server.close());

/** The value of one series in the scraped text, `name{labels…}`; 0 when it is not there (yet). */
async function scrape(series: string): Promise<number> {
  const text = await (await fetch(server.url as string)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("serveMetrics", () => {
  it("serves Prometheus's text format at /metrics, Node's own metrics included, and nothing elsewhere", async () => {
    const answer = await fetch(server.url as string);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await answer.text();
    expect(text).toContain("# TYPE rpc_server_duration_seconds histogram");
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect((await fetch(new URL("/", server.url as string))).status).toBe(404);
  });

  it("serves nothing without METRICS_PORT, and refuses one that is not a port", async () => {
    expect((await serveMetrics({}, silentLogger())).url).toBeUndefined();
    await expect(serveMetrics({ METRICS_PORT: "http" }, silentLogger())).rejects.toThrow(
      'METRICS_PORT="http" is not a port (0-65535)',
    );
  });
});

describe("gRPC metrics", () => {
  const grpc = useGrpc();

  it("counts each call served and made, by service, method and status code", async () => {
    const kitchen = createGrpcClient(
      KitchenService,
      grpc.connect(await grpc.serve([implement(KitchenService, fakeKitchen())])),
    );
    const labels = 'service="ftgo.kitchen.v1.KitchenService",method="GetTicket",code="NOT_FOUND"';
    const served = `rpc_server_duration_seconds_count{${labels}}`;
    const made = `rpc_client_duration_seconds_count{${labels}}`;
    const [servedBefore, madeBefore] = [await scrape(served), await scrape(made)];

    const error = await rejection(kitchen.getTicket({ orderId: "o-1" }));
    expect(ConnectError.from(error).code).toBe(Code.NotFound);
    await rejection(kitchen.getTicket({ orderId: "o-2" }));

    expect(await scrape(served)).toBe(servedBefore + 2);
    expect(await scrape(made)).toBe(madeBefore + 2);
  });
});

describe("breaker metrics", () => {
  it("shows an instance's breaker as 2 once it opens, and counts the transition", async () => {
    const where = { target: "kitchen", address: `127.0.0.1:${40_000 + Math.floor(Math.random() * 1000)}` };
    const labels = `target="kitchen",target_instance="${where.address}"`;
    const breaker = createInstanceBreaker(
      { kind: "consecutive", failures: 2, halfOpenAfterMs: 60_000 },
      where,
      silentLogger(),
    );
    expect(await scrape(`ftgo_breaker_state{${labels}}`)).toBe(0);

    const unavailable = () => Promise.reject(new ConnectError("down", Code.Unavailable));
    for (let i = 0; i < 2; i++) await rejection(breaker.execute(unavailable));

    expect(breaker.state).toBe("open");
    expect(await scrape(`ftgo_breaker_state{${labels}}`)).toBe(2);
    expect(await scrape(`ftgo_breaker_transitions_total{${labels},to="open"}`)).toBe(1);
  });
});
