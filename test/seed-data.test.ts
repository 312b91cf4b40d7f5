// The seed data, read from the real services: outside acceptance tests rely on it, and its tables in
// docs/sagas-and-messaging.md must say what the services hold.
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { ConsumerService, ConsumerState } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { createGrpcClient, createGrpcTransport, type GrpcTransport } from "@ftgo/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPage } from "./doc-blocks.js";

let mesh: TestMesh;
const transports: GrpcTransport[] = [];
function connect(address: string) {
  const transport = createGrpcTransport({ address });
  transports.push(transport);
  return transport;
}

beforeAll(async () => {
  mesh = await startTestMesh();
});
afterAll(async () => {
  for (const t of transports) t.close();
  await mesh?.stop();
});

describe("seed data", () => {
  it("has the three consumers, c-1003 suspended", async () => {
    const consumers = createGrpcClient(ConsumerService, connect(mesh.consumer.address));
    const got = await Promise.all(
      ["c-1001", "c-1002", "c-1003"].map((consumerId) => consumers.getConsumer({ consumerId })),
    );
    expect(got.map((r) => [r.consumer?.name, r.consumer?.state])).toEqual([
      ["Ana Nguyen", ConsumerState.ACTIVE],
      ["Ben Tran", ConsumerState.ACTIVE],
      ["Chi Le", ConsumerState.SUSPENDED],
    ]);
  });

  it("has Pho Hanoi open with three dishes and Bun Cha Corner closed", async () => {
    const kitchen = createGrpcClient(KitchenService, connect(mesh.kitchen.address));
    const r1 = await kitchen.getMenu({ restaurantId: "r-1" });
    expect(r1.restaurant?.open).toBe(true);
    expect(r1.menuItems.map((i) => [i.menuItemId, i.name, i.price?.minorUnits])).toEqual([
      ["m-1", "Pho bo", 650n],
      ["m-2", "Banh mi", 300n],
      ["m-3", "Ca phe sua da", 200n],
    ]);
    const r2 = await kitchen.getMenu({ restaurantId: "r-2" });
    expect([r2.restaurant?.name, r2.restaurant?.open]).toEqual(["Bun Cha Corner", false]);
    expect(r2.menuItems.map((i) => [i.menuItemId, i.price?.minorUnits])).toEqual([["m-10", 500n]]);
  });
});

describe("the seed data tables of docs/sagas-and-messaging.md", () => {
  const page = readPage("docs/sagas-and-messaging.md");

  it("name every consumer as Consumer has it, and the suspended one as suspended", async () => {
    const rows = [...page.matchAll(/^\| `(c-\d+)` \| ([^|]+?) +\| ([^|]+?) +\|$/gm)];
    expect(rows.map((row) => row[1])).toEqual(["c-1001", "c-1002", "c-1003"]);
    const consumers = createGrpcClient(ConsumerService, connect(mesh.consumer.address));
    for (const [, consumerId, name, behaviour] of rows) {
      const { consumer } = await consumers.getConsumer({ consumerId });
      expect([consumer?.name, consumer?.state === ConsumerState.SUSPENDED]).toEqual([
        name,
        behaviour?.startsWith("suspended"),
      ]);
    }
  });

  it("show every restaurant's name, whether it is open, and its menu with prices", async () => {
    const rows = [...page.matchAll(/^\| `(r-\d+)` +\| ([^|]+?) +\| ([^|]+?) +\| ([^|]+?) +\|$/gm)];
    expect(rows.map((row) => row[1])).toEqual(["r-1", "r-2"]);
    const kitchen = createGrpcClient(KitchenService, connect(mesh.kitchen.address));
    for (const [, restaurantId, name, state, menu] of rows) {
      const got = await kitchen.getMenu({ restaurantId });
      expect([got.restaurant?.name, got.restaurant?.open]).toEqual([name, state === "open"]);
      const documented = [...(menu ?? "").matchAll(/`(m-\d+)` ([^·]+?) (\d+)/g)].map((m) => [
        m[1],
        m[2],
        BigInt(m[3] ?? 0),
      ]);
      expect(got.menuItems.map((i) => [i.menuItemId, i.name, i.price?.minorUnits])).toEqual(documented);
    }
  });
});

describe("lookups by order id before the saga has run", () => {
  it.each([
    ["kitchen", "ticket"],
    ["accounting", "authorization"],
    ["delivery", "delivery"],
  ] as const)(
    "%s answers NOT_FOUND for an unknown order and INVALID_ARGUMENT for an empty id",
    async (service, what) => {
      const address = mesh[service].address;
      const lookup = {
        kitchen: (orderId: string) => createGrpcClient(KitchenService, connect(address)).getTicket({ orderId }),
        accounting: (orderId: string) =>
          createGrpcClient(AccountingService, connect(address)).getAuthorization({ orderId }),
        delivery: (orderId: string) => createGrpcClient(DeliveryService, connect(address)).getDelivery({ orderId }),
      }[service];
      const missing = await lookup("o-unknown").catch((e: unknown) => ConnectError.from(e));
      expect(missing).toMatchObject({ code: Code.NotFound, rawMessage: `no ${what} for order o-unknown` });
      const empty = await lookup("").catch((e: unknown) => ConnectError.from(e));
      expect(empty).toMatchObject({ code: Code.InvalidArgument, rawMessage: "order_id: value is required [required]" });
    },
  );
});
