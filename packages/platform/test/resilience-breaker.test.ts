import { Code } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { describe, expect, it } from "vitest";
import { waitFor } from "../src/testing/wait.js";
import { rejection } from "./grpc-fixtures.js";
import { capturingLogger, instanceOf, type TestKitchen, testPolicy, useMesh } from "./resilience-fixtures.js";

/** Calls that reached the server: those the "*" fault answered, plus those the handler ran. */
async function requestsSeen(kitchen: TestKitchen): Promise<number> {
  const { faults } = await kitchen.admin.listFaults({});
  return Number(faults[0]?.appliedCount ?? 0n) + kitchen.handled();
}

describe("createMeshClient: circuit breaker", () => {
  const mesh = useMesh();
  const failures = 3;
  const halfOpenAfterMs = 300;
  // Retries off: each call is one attempt, so the counts below are the breaker's alone.
  const policy = testPolicy({ retry: { attempts: 1 }, breaker: { failures, halfOpenAfterMs } });

  async function oneKitchen(log = capturingLogger()) {
    const downstream = await mesh.serveKitchen();
    mesh.registry.set("kitchen", [instanceOf(downstream.server, "kitchen-1")]);
    const kitchen = mesh.client(KitchenService, policy, { log: log.log });
    await kitchen.getMenu({ restaurantId: "r-1" }); // connected and listed
    return { downstream, kitchen, logs: log.lines };
  }

  it("opens after its threshold of failures, then fails calls fast without sending them", async () => {
    const { downstream, kitchen } = await oneKitchen();
    await downstream.admin.setFault({ fault: { method: "*", statusCode: Code.Unavailable } });

    for (let i = 0; i < failures; i++) {
      await expect(rejection(kitchen.getMenu({ restaurantId: "r-1" }))).resolves.toMatchObject({
        code: Code.Unavailable,
        rawMessage: expect.stringContaining("fault injected"),
      });
    }
    expect(kitchen.instances()[0]?.breaker).toBe("open");
    const seenWhenOpened = await requestsSeen(downstream);

    for (let i = 0; i < 5; i++) {
      await expect(rejection(kitchen.getMenu({ restaurantId: "r-1" }))).resolves.toMatchObject({
        code: Code.Unavailable,
        rawMessage: `circuit open for kitchen@${downstream.server.address}`,
      });
    }

    expect(seenWhenOpened).toBe(1 + failures);
    expect(await requestsSeen(downstream)).toBe(seenWhenOpened);
  });

  it("lets one trial call through after halfOpenAfter, and closes once the instance is healthy", async () => {
    const { downstream, kitchen, logs } = await oneKitchen();
    await downstream.admin.setFault({ fault: { method: "*", statusCode: Code.Unavailable } });
    for (let i = 0; i < failures; i++) await rejection(kitchen.getMenu({ restaurantId: "r-1" }));
    const openedAt = Date.now();

    // Still failing when the pause ends: the one trial call fails and the breaker opens for another pause.
    await waitFor(
      async () => {
        await kitchen.getMenu({ restaurantId: "r-1" }).catch(() => {});
        return (await requestsSeen(downstream)) > 1 + failures;
      },
      { message: "a trial call to reach the server" },
    );
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(halfOpenAfterMs);
    expect(await requestsSeen(downstream)).toBe(1 + failures + 1);
    expect(kitchen.instances()[0]?.breaker).toBe("open");

    await downstream.admin.clearFaults({});
    await waitFor(() => kitchen.getMenu({ restaurantId: "r-1" }), { message: "the breaker to close" });

    expect(kitchen.instances()[0]?.breaker).toBe("closed");
    expect(downstream.handled()).toBe(2); // the first call and the successful trial; nothing in between
    expect(logs.map(({ level, breaker, target, instance }) => ({ level, breaker, target, instance }))).toEqual(
      ["open", "half-open", "open", "half-open", "closed"].map((breaker) => ({
        level: 40, // warn
        breaker,
        target: "kitchen",
        instance: downstream.server.address,
      })),
    );
  });

  it("is not opened by answers from a healthy server, such as NOT_FOUND", async () => {
    const { kitchen } = await oneKitchen();

    for (let i = 0; i < failures * 2; i++) {
      await expect(rejection(kitchen.getMenu({ restaurantId: "nowhere" }))).resolves.toMatchObject({
        code: Code.NotFound,
      });
    }

    expect(kitchen.instances()[0]?.breaker).toBe("closed");
  });
});
