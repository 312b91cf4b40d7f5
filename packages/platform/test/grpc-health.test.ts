import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { createGrpcClient, implement } from "../src/grpc/index.js";
import { fakeKitchen, useGrpc } from "./grpc-fixtures.js";

describe("serveGrpc health", () => {
  const grpc = useGrpc();

  async function serveKitchen() {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    return { server, health: createGrpcClient(Health, grpc.connect(server)) };
  }

  it("reports SERVING for the server and for each service once it listens", async () => {
    const { health } = await serveKitchen();

    const whole = await health.check({ service: "" });
    const kitchen = await health.check({ service: "ftgo.kitchen.v1.KitchenService" });

    expect([whole.status, kitchen.status]).toEqual([ServingStatus.SERVING, ServingStatus.SERVING]);
  });

  it("reports NOT_SERVING after setServing(false), and SERVING again after setServing(true)", async () => {
    const { server, health } = await serveKitchen();

    server.setServing(false);
    const down = await health.check({ service: "ftgo.kitchen.v1.KitchenService" });
    server.setServing(true);
    const up = await health.check({ service: "" });

    expect([down.status, up.status]).toEqual([ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
  });

  it("streams NOT_SERVING to watchers as soon as close() starts", async () => {
    const { server, health } = await serveKitchen();

    const statuses: ServingStatus[] = [];
    for await (const { status } of health.watch({ service: "" }, { timeoutMs: 5000 })) {
      statuses.push(status);
      if (status === ServingStatus.SERVING) void server.close(1000);
      if (status === ServingStatus.NOT_SERVING) break;
    }

    expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("answers NOT_FOUND for a service it does not serve, and lists those it does", async () => {
    const { health } = await serveKitchen();

    const unknown = await health.check({ service: "ftgo.nothing.v1.Nothing" }).catch((err) => ConnectError.from(err));
    const { statuses } = await health.list({});

    expect(unknown).toBeInstanceOf(ConnectError);
    expect((unknown as ConnectError).code).toBe(Code.NotFound);
    expect(Object.keys(statuses)).toEqual(expect.arrayContaining(["", "ftgo.kitchen.v1.KitchenService"]));
    expect(statuses[""]?.status).toBe(ServingStatus.SERVING);
  });

  it("streams a status to a watcher only when it changes, and SERVICE_UNKNOWN for a name it does not serve", async () => {
    const { server, health } = await serveKitchen();

    const statuses: ServingStatus[] = [];
    for await (const { status } of health.watch({ service: "" }, { timeoutMs: 5000 })) {
      statuses.push(status);
      if (statuses.length === 1) {
        server.setServing(true); // no change: nothing sent
        server.setServing(false);
      }
      if (status === ServingStatus.NOT_SERVING) break;
    }
    const unknown: ServingStatus[] = [];
    for await (const { status } of health.watch({ service: "ftgo.nothing.v1.Nothing" }, { timeoutMs: 5000 })) {
      unknown.push(status);
      break;
    }

    expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(unknown).toEqual([ServingStatus.SERVICE_UNKNOWN]);
  });
});
