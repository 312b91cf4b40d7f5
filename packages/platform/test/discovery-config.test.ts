// Choosing and configuring the service registry, and checking what goes into it and comes out of it.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { fromConsulEntry, toConsulService } from "../src/discovery/consul.js";
import { createRegistry } from "../src/discovery/create-registry.js";
import { routerTags } from "../src/discovery/router.js";
import { InvalidInstanceError, validateInstance } from "../src/discovery/service-instance.js";
import type { Env } from "../src/env.js";
import { silentLogger } from "../src/log.js";

// Every service's configuration carries its discovery settings.
const load = (env: Env) => loadConfig(env, { service: "order", port: 50051 }).discovery;

const kitchen = { service: "kitchen", id: "kitchen-1", address: "10.0.0.7", port: 50053, version: "1.2.0", tags: [] };

describe("loadDiscoveryConfig", () => {
  it("defaults to the NATS KV registry, a 10 s TTL and a heartbeat every third of it", () => {
    expect(load({})).toEqual({ registry: "nats-kv", ttlMs: 10_000, heartbeatMs: 3_333 });
  });

  it("reads Consul's address, with Consul's own default", () => {
    expect(load({ REGISTRY: "consul" }).consulAddr).toBe("127.0.0.1:8500");
    expect(load({ REGISTRY: "consul", CONSUL_HTTP_ADDR: "consul:8500" }).consulAddr).toBe("consul:8500");
  });

  it("reads Consul's health-check settings, with documented defaults, and rejects impossible ones", () => {
    expect(load({ REGISTRY: "consul" }).consulCheck).toEqual({ interval: "2s", timeout: "1s", deregisterAfter: "1m" });
    expect(
      load({
        REGISTRY: "consul",
        CONSUL_CHECK_INTERVAL: "500ms",
        CONSUL_CHECK_TIMEOUT: "300ms",
        CONSUL_DEREGISTER_AFTER: "90s",
      }).consulCheck,
    ).toEqual({ interval: "500ms", timeout: "300ms", deregisterAfter: "90s" });
    expect(() => load({ REGISTRY: "consul", CONSUL_CHECK_INTERVAL: "often", CONSUL_DEREGISTER_AFTER: "10s" })).toThrow(
      /CONSUL_CHECK_INTERVAL="often"[\s\S]*CONSUL_DEREGISTER_AFTER="10s"/,
    );
    expect(() => load({ REGISTRY: "consul", CONSUL_CHECK_INTERVAL: "1s", CONSUL_CHECK_TIMEOUT: "2s" })).toThrow(
      /CONSUL_CHECK_TIMEOUT \(2s\) must be shorter than CONSUL_CHECK_INTERVAL \(1s\)/,
    );
  });

  it("reads a static list, numbering each service's instances", () => {
    const config = load({
      REGISTRY: "static",
      STATIC_INSTANCES: "order=127.0.0.1:50051, kitchen=127.0.0.1:50053,kitchen=[::1]:50063",
    });

    expect(config.staticInstances?.map(({ id, address, port }) => `${id} ${address} ${port}`)).toEqual([
      "order-1 127.0.0.1 50051",
      "kitchen-1 127.0.0.1 50053",
      "kitchen-2 ::1 50063",
    ]);
  });

  it("reports every invalid variable at once", () => {
    expect(() => load({ REGISTRY: "zookeeper", REGISTRY_TTL_MS: "soon" })).toThrow(
      expect.objectContaining({
        problems: [expect.stringMatching(/^REGISTRY=/), expect.stringMatching(/^REGISTRY_TTL_MS=/)],
      }),
    );
  });

  it("under DISCOVERY=server, sends everything to the router, whatever REGISTRY says", () => {
    expect(load({ DISCOVERY: "server", REGISTRY: "consul" })).toEqual({
      registry: "router",
      ttlMs: 10_000,
      heartbeatMs: 3_333,
      routerAddr: "127.0.0.1:8090",
    });
    expect(load({ DISCOVERY: "server", DISCOVERY_ROUTER: "[::1]:9090" }).routerAddr).toBe("[::1]:9090");
    expect(load({ DISCOVERY: "client" }).registry).toBe("nats-kv");
  });

  it("rejects an unknown DISCOVERY and a router address that is not host:port", () => {
    expect(() => load({ DISCOVERY: "dns" })).toThrow(/DISCOVERY="dns"/);
    expect(() => load({ DISCOVERY: "server", DISCOVERY_ROUTER: "traefik" })).toThrow(
      /DISCOVERY_ROUTER="traefik" is not host:port/,
    );
  });

  it("rejects a static list it cannot read, naming the bad items", () => {
    const bad = () => load({ REGISTRY: "static", STATIC_INSTANCES: "order=127.0.0.1:50051,kitchen,delivery=h:99999" });

    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/"kitchen" is not service=host:port/);
    expect(bad).toThrow(/"delivery=h:99999".*port 99999/);
    expect(() => load({ REGISTRY: "static" })).toThrow(/STATIC_INSTANCES is empty/);
  });
});

describe("createRegistry", () => {
  it("needs a NATS connection for the NATS KV registry", async () => {
    const config = { registry: "nats-kv", ttlMs: 10_000, heartbeatMs: 3_333 } as const;

    await expect(createRegistry(config, { log: silentLogger() })).rejects.toThrow(/NATS connection/);
  });
});

describe("the router registry (DISCOVERY=server)", () => {
  const config = { registry: "router", ttlMs: 10_000, heartbeatMs: 3_333, routerAddr: "127.0.0.1:8090" } as const;

  it("lists the router as the one instance of every service, and registers nothing", async () => {
    const registry = await createRegistry(config, { log: silentLogger() });
    const via = { address: "127.0.0.1", port: 8090, version: "router", tags: ["router"] };

    expect(await registry.lookup("kitchen")).toEqual([{ service: "kitchen", id: "kitchen-via-router", ...via }]);
    const watched = await new Promise((resolve) => registry.watch("order", resolve));
    expect(watched).toEqual([{ service: "order", id: "order-via-router", ...via }]);
    const registration = await registry.register(kitchen);
    await registration.deregister();
    expect(await registry.lookup("kitchen")).toHaveLength(1);
  });

  it("tags a registration so that Traefik routes the service's gRPC packages to it over h2c", () => {
    expect(routerTags("kitchen")).toEqual([
      "traefik.enable=true",
      "traefik.http.routers.kitchen.rule=PathPrefix(`/ftgo.kitchen.`) || Header(`ftgo-target`, `kitchen`)",
      "traefik.http.routers.kitchen.service=kitchen",
      "traefik.http.services.kitchen.loadbalancer.server.scheme=h2c",
    ]);
    expect(() => routerTags("kitchen.v1")).toThrow(InvalidInstanceError);
  });
});

describe("validateInstance", () => {
  it("keeps only the known fields, frozen", () => {
    const instance = validateInstance({ ...kitchen, secret: "x" });

    expect(instance).toEqual(kitchen);
    expect(Object.isFrozen(instance) && Object.isFrozen(instance.tags)).toBe(true);
  });

  it("names every problem of a bad instance", () => {
    const bad = () => validateInstance({ service: "kitchen.v1", id: "", address: "a b", port: 0, tags: [1] });

    expect(bad).toThrow(InvalidInstanceError);
    expect(bad).toThrow(
      expect.objectContaining({
        problems: [
          'service "kitchen.v1" is not a name',
          'id "" is not a name',
          'address "a b" is not a host',
          "port 0 is not from 1 to 65535",
          "version (missing) is not a string",
          "tags [1] is not a list of strings",
        ],
      }),
    );
  });
});

describe("Consul mapping", () => {
  it("registers a gRPC health check that has an interval, so that it stays a gRPC check", () => {
    expect(toConsulService(validateInstance(kitchen))).toMatchObject({
      name: "kitchen",
      id: "kitchen-1",
      address: "10.0.0.7",
      port: 50053,
      meta: { version: "1.2.0" },
      check: { grpc: "10.0.0.7:50053", interval: "2s" },
    });
  });

  it("reads an instance back from a health entry, at its node's address if it has none", () => {
    const entry = {
      Node: { Address: "10.0.0.9" },
      Service: { ID: "kitchen-1", Service: "kitchen", Address: "", Port: 50053, Tags: ["a"], Meta: {} },
      Checks: [],
    };

    expect(validateInstance(fromConsulEntry(entry))).toEqual({
      ...kitchen,
      address: "10.0.0.9",
      version: "unknown",
      tags: ["a"],
    });
  });
});
