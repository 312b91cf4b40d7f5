// Self-registration's order, both ways, against a real NATS KV registry: an instance is in the registry
// before it says SERVING, and stops saying SERVING before it leaves the registry.
import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRegistry } from "../src/discovery/create-registry.js";
import type { Registry } from "../src/discovery/registry.js";
import { registerSelf } from "../src/discovery/self-registration.js";
import { silentLogger } from "../src/log.js";

describe("registerSelf", () => {
  let nc: NatsConnection;
  let registry: Registry;
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
    registry = await createRegistry(
      { registry: "nats-kv", ttlMs: 10_000, heartbeatMs: 3_000 },
      { nc, log: silentLogger() },
    );
  });
  afterAll(async () => {
    await registry.close();
    await nc.close();
  });

  /** The registry, recording each entry and removal in `steps` alongside the server's health changes. */
  function recording(steps: string[]): Registry {
    return {
      kind: registry.kind,
      lookup: (service) => registry.lookup(service),
      watch: (service, onChange) => registry.watch(service, onChange),
      close: () => registry.close(),
      async register(instance) {
        const registration = await registry.register(instance);
        steps.push("registered");
        return {
          instance: registration.instance,
          async deregister() {
            steps.push("deregistering");
            await registration.deregister();
          },
        };
      },
    };
  }

  it("registers the instance, then turns SERVING; on withdraw, NOT_SERVING, then out of the registry", async () => {
    const steps: string[] = [];
    const service = `self-${randomUUID().slice(0, 8)}`;
    const server = {
      port: 50_999,
      setServing: (serving: boolean) => steps.push(serving ? "SERVING" : "NOT_SERVING"),
      onServingChange: () => () => {},
    };

    const self = await registerSelf(recording(steps), server, { service, advertiseHost: "10.0.0.7" });

    expect(steps).toEqual(["registered", "SERVING"]);
    expect(self.instance).toMatchObject({ service, address: "10.0.0.7", port: 50_999 });
    expect(self.instance.id).toMatch(new RegExp(`^${service}-50999-[0-9a-f]{6}$`));
    expect((await registry.lookup(service)).map((instance) => instance.id)).toEqual([self.instance.id]);

    await self.withdraw();

    expect(steps).toEqual(["registered", "SERVING", "NOT_SERVING", "deregistering"]);
    expect(await registry.lookup(service)).toEqual([]);
  });
});
