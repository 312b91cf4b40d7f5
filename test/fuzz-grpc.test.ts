// Every method of every service of a running process mesh (and of the Go Loyalty service beside it),
// fuzzed from its protobuf descriptors with fast-check (packages/harness/src/fuzz-messages.ts): well-typed
// requests full of extreme values, and the bytes a broken or hostile client sends instead. Whatever comes
// in, a server answers with a status the method's contract allows and a message saying why — never
// INTERNAL, UNKNOWN or DATA_LOSS, never a hang — and keeps serving: its process stays up, a known-good call
// still succeeds, its log shows no error. Replay a failure with the FUZZ_SEED its message names;
// FUZZ_RUNS sets the runs per method.
import {
  create,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { AdminService, ListFaultsResponseSchema } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { OrderService as OrderServiceV1 } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import { Health } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { callRaw, grpcPath, type RawAnswer, rawClient } from "@ftgo/harness/fuzz-calls.js";
import { fuzzRequest } from "@ftgo/harness/fuzz-messages.js";
import { createFuzzTally, fuzzSettings } from "@ftgo/harness/fuzz-run.js";
import { startLoyaltyBeside } from "@ftgo/harness/loyalty-process.js";
import { useSagaMesh } from "@ftgo/harness/saga-mesh-fixture.js";
import type { ProcessName, ServiceInstance } from "@ftgo/harness/service-instance.js";
import type { Client } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const settings = fuzzSettings();
const { runs: RUNS, seed: SEED, replay: REPLAY } = settings;
/** Long enough for a busy 2-core machine; a server that takes longer on a bad request hangs. */
const DEADLINE_MS = 10_000;
/**
 * A method's runs take a second or two; a failure is shrunk with more calls (each up to DEADLINE_MS when
 * the server hangs), so shrinking stops after SHRINK_MS and reports the smallest case found by then.
 */
const SHRINK_MS = 60_000;

/** The refusals every method may answer with: the caller's mistake, a thing that is not there, a limit. */
const REFUSALS = [status.INVALID_ARGUMENT, status.NOT_FOUND, status.RESOURCE_EXHAUSTED];
/** What a method's contract adds: a state that forbids the operation. */
const CONTRACT_REFUSALS: Readonly<Record<string, readonly status[]>> = {
  "/ftgo.order.v1.OrderService/CancelOrder": [status.FAILED_PRECONDITION],
  "/ftgo.order.v2.OrderService/CancelOrder": [status.FAILED_PRECONDITION],
  "/ftgo.kitchen.v1.KitchenService/AcceptTicket": [status.FAILED_PRECONDITION],
  "/ftgo.admin.v1.AdminService/ListDeadLetters": [status.FAILED_PRECONDITION],
  "/ftgo.admin.v1.AdminService/ReplayDeadLetter": [status.FAILED_PRECONDITION],
};

type Server = ProcessName;

/** Each server and what it serves; every TypeScript server also serves AdminService. */
const SERVED: readonly [Server, readonly DescService[]][] = [
  ["order", [OrderServiceV1, OrderServiceV2, AdminService]],
  ["consumer", [ConsumerService, AdminService]],
  ["kitchen", [KitchenService, AdminService]],
  ["accounting", [AccountingService, AdminService]],
  ["delivery", [DeliveryService, AdminService]],
  ["loyalty", [LoyaltyService]],
];

const CASES = SERVED.flatMap(([server, services]) =>
  services.flatMap((service) => service.methods.map((method) => [server, grpcPath(method), method] as const)),
).map(([server, path, method], index) => [server, path, method, index] as const);

const fixture = useSagaMesh();
let loyalty: ServiceInstance;
let orderId: string;
const clients = new Map<Server, Client>();
/** Per method: how many runs of each input kind ended with each status. */
const tallies = createFuzzTally(settings);

beforeAll(async () => {
  const { mesh } = fixture;
  const [started, created] = await Promise.all([
    startLoyaltyBeside(mesh),
    fixture.clients.order.createOrder({
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", quantity: 1 }],
    }),
  ]);
  loyalty = started;
  orderId = created.order?.orderId ?? "";
  for (const [server] of SERVED) clients.set(server, rawClient(instanceOf(server).address));
}, 300_000);

afterAll(async () => {
  for (const client of clients.values()) client.close();
  await loyalty?.stop();
  console.log(tallies.report("gRPC fuzz", { targets: "methods", units: "calls" }));
});

describe("every gRPC method, fuzzed from its descriptors", () => {
  it.each(CASES)(
    "%s %s answers every input with an allowed status and keeps serving",
    async (server, path, method, index) => {
      const client = clientOf(server);
      const allowed = [status.OK, ...REFUSALS, ...(CONTRACT_REFUSALS[path] ?? [])];
      const tally = tallies.of(`${server} ${path}`);
      const property = fc.asyncProperty(
        fuzzRequest(method.input, { ids: domainIds(), strings: domainStrings(), fields: DOMAIN_FIELDS }),
        async (request) => {
          const answer = await callRaw(client, method, request.bytes, { deadlineMs: DEADLINE_MS });
          tally(request.kind, status[answer.code] ?? String(answer.code));
          if (method === AdminService.method.setFault) await clearFaults(client);
          expect(allowed, describeAnswer(answer)).toContain(answer.code);
          if (answer.code !== status.OK) expect(answer.details.trim(), describeAnswer(answer)).not.toBe("");
        },
      );
      // Each method its own seed, derived from FUZZ_SEED: the methods do not all see the same shapes.
      await assertReplayable(path, property, SEED + index);
      await expectStillServing(server);
    },
    SHRINK_MS + 60_000,
  );
});

describe("the cases fuzzing found, kept as they were found", () => {
  it("answers a v1 CreateOrder with a thousand empty line items INVALID_ARGUMENT, naming ten violations, and the connection lives on", async () => {
    // Its 84 kB status message (two violations per item) never reached the caller: the trailer was over
    // the HTTP/2 limit, and the call waited for its deadline. Now ten violations are named, the rest counted.
    const method = OrderServiceV1.method.createOrder;
    const request = create(method.input, {
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: Array.from({ length: 1000 }, () => ({})),
    });

    const answer = await callRaw(clientOf("order"), method, toBinary(method.input, request), { deadlineMs: 5000 });

    expect(answer.code).toBe(status.INVALID_ARGUMENT);
    expect(answer.details).toMatch(/^line_items: must contain no more than 50 item\(s\) \[repeated.max_items\]; /);
    expect(answer.details).toMatch(/; … and 1991 more$/);
    expect(await knownGoodCall("order")).toEqual({ code: status.OK, details: "" });
  });

  it.each(["order", "consumer", "kitchen", "accounting", "delivery"] as const)(
    "answers ReplayDeadLetter of a sequence past 2^53 NOT_FOUND on %s, not INTERNAL",
    async (server) => {
      // Number(2^64 - 2048) reached JetStream as 18446744073709550000, which it refused as malformed JSON.
      const method = AdminService.method.replayDeadLetter;
      for (const seq of [2n ** 64n - 2048n, 2n ** 53n + 1n]) {
        const bytes = toBinary(method.input, create(method.input, { seq }));

        const answer = await callRaw(clientOf(server), method, bytes);

        expect(answer).toEqual({ code: status.NOT_FOUND, details: `no dead letter with sequence ${seq}` });
      }
    },
  );

  it.each([LoyaltyService.method.getAccount, LoyaltyService.method.getOrderPoints])(
    "answers the Go service's $name a request that does not decode INVALID_ARGUMENT, not grpc-go's INTERNAL",
    async (method) => {
      // Field 1 announced, nothing follows.
      const answer = await callRaw(clientOf("loyalty"), method, Uint8Array.of(0x0a));

      expect(answer.code).toBe(status.INVALID_ARGUMENT);
      // Go's protobuf errors vary their spaces on purpose (so that nobody matches them): only the start is ours.
      expect(answer.details).toMatch(new RegExp(`^malformed ${method.input.typeName.replaceAll(".", "\\.")}: proto:`));
    },
  );

  it.each(SERVED.map(([server]) => server))("answers a request over 4 MiB RESOURCE_EXHAUSTED on %s", async (server) => {
    const method = server === "loyalty" ? Health.method.check : AdminService.method.listFaults;
    const bytes = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .bytes(new Uint8Array(5 * 1024 * 1024))
      .finish();

    const answer = await callRaw(clientOf(server), method, bytes);

    expect(answer.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(answer.details).not.toBe("");
    expect(await knownGoodCall(server)).toEqual({ code: status.OK, details: "" });
  });
});

/** Runs the property; a failure names the seed (and the runs) that replay it. */
async function assertReplayable<T>(path: string, property: fc.IAsyncProperty<T>, seed: number): Promise<void> {
  try {
    await fc.assert(property, {
      seed,
      numRuns: RUNS,
      interruptAfterTimeLimit: SHRINK_MS,
      markInterruptAsFailure: true,
    });
  } catch (err) {
    throw new Error(`${path}: replay with ${REPLAY}\n${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** The server's process is up, answers a known-good call, and has logged no error. */
async function expectStillServing(server: Server): Promise<void> {
  const instance = instanceOf(server);
  expect(instance.running, `${server} is no longer running (${REPLAY})`).toBe(true);
  expect([...fixture.mesh.crashes(), ...loyalty.crashes]).toEqual([]);
  const good = await knownGoodCall(server);
  expect(good, `${server}: a known-good call after fuzzing (${REPLAY})`).toEqual({ code: status.OK, details: "" });
  const errors = instance
    .output()
    .split("\n")
    .filter((line) => /unhandled|uncaught|"level":(50|60)|"level":"(error|fatal)"|panic/i.test(line));
  expect(errors, `${server} logged errors (${REPLAY})`).toEqual([]);
}

/** A read that must succeed on a healthy server; on the TypeScript servers, also no fault left set. */
async function knownGoodCall(server: Server): Promise<RawAnswer> {
  const client = clientOf(server);
  const call = <M extends DescMethod>(method: M, init: MessageInitShape<M["input"]>) =>
    callRaw(client, method, toBinary(method.input, create(method.input, init)));
  if (server === "loyalty") return call(Health.method.check, {});
  const faults = await listFaults(client);
  if (faults !== 0) return { code: status.FAILED_PRECONDITION, details: `${faults} faults left set` };
  switch (server) {
    case "order":
      return call(OrderServiceV2.method.getOrder, { orderId });
    case "consumer":
      return call(ConsumerService.method.getConsumer, { consumerId: "c-1001" });
    case "kitchen":
      return call(KitchenService.method.getMenu, { restaurantId: "r-1" });
    default:
      return call(AdminService.method.getServerStats, {});
  }
}

/** A SetFault the fuzzer got through must not slow down or fail the runs after it. */
async function clearFaults(client: Client): Promise<void> {
  const cleared = await callRaw(client, AdminService.method.clearFaults, new Uint8Array(0));
  expect(cleared.code, "ClearFaults after a fuzzed SetFault").toBe(status.OK);
}

async function listFaults(client: Client): Promise<number> {
  const { code, bytes } = await callRawWithBody(client, AdminService.method.listFaults);
  return code === status.OK ? fromBinary(ListFaultsResponseSchema, bytes).faults.length : -1;
}

/** ListFaults answers a message worth reading: callRaw keeps only the status, so this asks for the body too. */
function callRawWithBody(client: Client, method: DescMethod): Promise<{ code: status; bytes: Uint8Array }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      grpcPath(method),
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err, value) => resolve({ code: err ? err.code : status.OK, bytes: value ?? new Uint8Array(0) }),
    );
  });
}

/** The seed's ids and a real order's: requests that carry them pass validation, and some find what they name. */
function domainIds(): string[] {
  return [orderId, "c-1001", "c-1003", "r-1", "r-2", "m-1", "m-3"];
}

/** Where the seed's restaurant and its menu go, so that some fuzzed orders are priced, created and run. */
const DOMAIN_FIELDS = { restaurant_id: ["r-1"], menu_item_id: ["m-1", "m-3"], consumer_id: ["c-1001", "c-1003"] };

/** Other strings the mesh reads: fault paths, page tokens (good, and numbers no cursor has). */
function domainStrings(): string[] {
  const token = (text: string) => Buffer.from(text).toString("base64url");
  return [
    "*",
    "/ftgo.kitchen.v1.KitchenService/GetMenu",
    "/ftgo.order.v2.OrderService/GetOrder",
    token("seq:1"),
    token("seq:0"),
    token("seq:9007199254740993"),
    token(`seq:${"9".repeat(180)}`),
    token("seq:-1"),
  ];
}

function describeAnswer(answer: RawAnswer): string {
  return `answered ${status[answer.code]}: ${JSON.stringify(answer.details)} (${REPLAY})`;
}

function instanceOf(server: Server): ServiceInstance {
  return server === "loyalty" ? loyalty : fixture.mesh[server];
}

function clientOf(server: Server): Client {
  const client = clients.get(server);
  if (!client) throw new Error(`no client of ${server}: beforeAll did not run`);
  return client;
}
