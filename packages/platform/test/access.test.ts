import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ACCESS_TABLE,
  type AccessTable,
  accessRule,
  actingFor,
  type CallContext,
  type EndUser,
  type MeshPeer,
  mayCall,
} from "../src/grpc/index.js";

const GEN = fileURLToPath(new URL("../../../gen/ts", import.meta.url));

/** Every service the generated code declares, found by walking gen/ts: the services any server can serve. */
async function generatedServices(): Promise<DescService[]> {
  const files = readdirSync(GEN, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith("_pb.ts"));
  const modules = await Promise.all(files.map((file) => import(pathToFileURL(join(GEN, file)).href)));
  return modules.flatMap((module: Record<string, unknown>) =>
    Object.values(module).filter((value): value is DescService => (value as DescService | null)?.kind === "service"),
  );
}

const peer = (name: string, role: string): MeshPeer => ({ name, role });
const ORDER = peer("order", "service");
const KITCHEN = peer("kitchen", "service");
const GATEWAY = peer("gateway", "gateway");
const ADMIN = peer("admin", "admin");
const LEARNER = peer("c-1001", "learner");
const COURIER = peer("courier-1", "courier");
const AN_ADMIN: EndUser = { role: "admin", subject: "ops" };
const A_CONSUMER: EndUser = { role: "consumer", subject: "c-42" };

describe("the access table (proto/access.json)", () => {
  it("has an entry for every method of every service in gen/ts, so a new RPC cannot ship without a rule", async () => {
    const services = await generatedServices();
    const methods = services.flatMap((service) => service.methods.map((m) => `${service.typeName}/${m.name}`));

    const uncovered = methods.filter((method) => accessRule(method) === undefined);

    expect(services.length).toBeGreaterThan(5); // the walk found the services, not nothing
    expect(uncovered).toEqual([]);
  });

  it("names no service or method that gen/ts does not have (no stale or misspelt rules)", async () => {
    const services = await generatedServices();
    const known = new Set(
      services.flatMap((s) => [`${s.typeName}/*`, ...s.methods.map((m) => `${s.typeName}/${m.name}`)]),
    );

    expect(Object.keys(ACCESS_TABLE).filter((key) => !known.has(key))).toEqual([]);
  });
});

describe("mayCall", () => {
  it("lets a method's own entry win over its service's", () => {
    expect(mayCall("ftgo.kitchen.v1.KitchenService/GetMenu", ORDER, undefined)).toBe(true);
    expect(mayCall("ftgo.kitchen.v1.KitchenService/AcceptTicket", ORDER, undefined)).toBe(false);
    expect(mayCall("ftgo.kitchen.v1.KitchenService/AcceptTicket", GATEWAY, undefined)).toBe(true);
  });

  it("reads a path with or without its leading slash", () => {
    expect(mayCall("/ftgo.kitchen.v1.KitchenService/GetMenu", ORDER, undefined)).toBe(true);
    expect(mayCall("/ftgo.kitchen.v1.KitchenService/GetMenu", KITCHEN, undefined)).toBe(false);
  });

  it("admits by role (OU) and by name (CN)", () => {
    const table: AccessTable = { "pkg.S/*": ["courier", "order"] };

    expect(mayCall("pkg.S/M", COURIER, undefined, table)).toBe(true);
    expect(mayCall("pkg.S/M", ORDER, undefined, table)).toBe(true);
    expect(mayCall("pkg.S/M", KITCHEN, undefined, table)).toBe(false);
  });

  it("never admits a learner by name, even one whose certificate borrows a service's name", () => {
    const table: AccessTable = { "pkg.S/*": ["order"] };

    expect(mayCall("pkg.S/M", peer("order", "learner"), undefined, table)).toBe(false);
  });

  it("admits any peer with '*', and nobody without a peer", () => {
    expect(mayCall("grpc.health.v1.Health/Check", COURIER, undefined)).toBe(true);
    expect(mayCall("grpc.health.v1.Health/Check", undefined, undefined)).toBe(false);
  });

  it("denies a method no entry covers", () => {
    expect(accessRule("ftgo.nowhere.v1.NoService/Anything")).toBeUndefined();
    expect(mayCall("ftgo.nowhere.v1.NoService/Anything", ADMIN, undefined)).toBe(false);
  });

  it("opens AdminService to admin, and to the gateway only for an admin's claim", () => {
    const method = "ftgo.admin.v1.AdminService/SetFault";

    expect(mayCall(method, ADMIN, undefined)).toBe(true);
    expect(mayCall(method, GATEWAY, AN_ADMIN)).toBe(true);
    expect(mayCall(method, GATEWAY, A_CONSUMER)).toBe(false);
    expect(mayCall(method, GATEWAY, undefined)).toBe(false);
    expect(mayCall(method, LEARNER, AN_ADMIN)).toBe(false);
    expect(mayCall(method, ORDER, undefined)).toBe(false);
  });

  it("lets learners call Order but not Consumer", () => {
    expect(mayCall("ftgo.order.v1.OrderService/CreateOrder", LEARNER, undefined)).toBe(true);
    expect(mayCall("ftgo.consumer.v1.ConsumerService/GetConsumer", LEARNER, undefined)).toBe(false);
  });
});

describe("actingFor", () => {
  const call = (peer?: MeshPeer, endUser?: EndUser): CallContext => ({
    requestId: "r-1",
    deadline: undefined,
    signal: new AbortController().signal,
    ...(peer && { peer }),
    ...(endUser && { endUser }),
  });

  it("acts for anyone in the learner's mode (no peer) and outside any call", () => {
    expect(actingFor(call())).toEqual({ kind: "anyone" });
    expect(actingFor(undefined)).toEqual({ kind: "anyone" });
  });

  it("acts for anyone for an admin certificate or the gateway forwarding an admin", () => {
    expect(actingFor(call(ADMIN))).toEqual({ kind: "anyone" });
    expect(actingFor(call(GATEWAY, AN_ADMIN))).toEqual({ kind: "anyone" });
  });

  it("acts for the consumer the gateway forwards, and for nobody when it forwards none", () => {
    expect(actingFor(call(GATEWAY, A_CONSUMER))).toEqual({ kind: "consumer", consumerId: "c-42" });
    expect(actingFor(call(GATEWAY))).toEqual({ kind: "nobody" });
  });

  it("acts for the consumer a learner's certificate is named after", () => {
    expect(actingFor(call(LEARNER))).toEqual({ kind: "consumer", consumerId: "c-1001" });
  });

  it("acts for nobody for a service or a courier", () => {
    expect(actingFor(call(ORDER))).toEqual({ kind: "nobody" });
    expect(actingFor(call(COURIER))).toEqual({ kind: "nobody" });
  });
});
