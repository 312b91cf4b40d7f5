// The messaging contract (docs/asyncapi.yaml): generated, in sync, valid AsyncAPI 3.0 by the official
// parser, derived from the descriptors, true to the services' subscriptions, and to the messages the
// mesh really sends in both saga modes; and served by the gateway at /asyncapi.json.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Parser } from "@asyncapi/parser";
import { CourierQuoteRequestSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { OrderSchema, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { ASYNCAPI_FILE, messagingContract, messagingContractYaml } from "@ftgo/harness/asyncapi-document.js";
import { call, type GatewayMesh, startGatewayMesh } from "@ftgo/harness/gateway-mesh.js";
import { startTestMesh, type TestMesh } from "@ftgo/harness/in-process-mesh.js";
import { buildLoyalty } from "@ftgo/harness/loyalty-process.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { GO_SERVICE_SUBSCRIPTIONS, serviceSubscriptions } from "@ftgo/harness/message-flows.js";
import { acceptedOrder, orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import { deliveryScheduled, readyByInMinutes, startTestCourier } from "@ftgo/harness/test-couriers.js";
import {
  commandSubject,
  createSchemaCollector,
  DEFAULT_PARTITIONS,
  eventSubject,
  MessageHeader,
  replyChannel,
  replySubject,
  requestSubject,
  SAGA_MODES,
  type SagaMode,
} from "@ftgo/platform";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { shBlock } from "./doc-blocks.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, read by path in assertions
type Doc = any;
const committed = readFileSync(ASYNCAPI_FILE, "utf8");
const doc: Doc = parse(committed);

/** Whether `subject` is one of the subjects a channel address (with `{partition}`) stands for. */
function addressMatches(address: string, subject: string): boolean {
  const pattern = address
    .replace(/[.]/g, "\\.")
    .replace("{partition}", `(${[...Array(DEFAULT_PARTITIONS).keys()].join("|")})`);
  return new RegExp(`^${pattern}$`).test(subject);
}

/** The operations of `service` doing `action`, with their channel and the protobuf types they carry. */
function operationsOf(service: string, action: "send" | "receive") {
  return Object.entries(doc.operations as Record<string, Doc>)
    .filter(([, op]) => op["x-ftgo-service"] === service && op.action === action)
    .map(([id, op]) => {
      const channel = doc.channels[String(op.channel.$ref).replace("#/channels/", "")];
      const types = Object.values(channel.messages as Record<string, Doc>).map(
        (message) =>
          doc.components.messages[String(message.$ref).replace("#/components/messages/", "")]["x-protobuf-type"],
      );
      return {
        id,
        address: channel.address as string,
        types,
        modes: op["x-ftgo-saga-modes"] as SagaMode[] | undefined,
      };
    });
}

/** The operation of `service` doing `action` with a `type` message on the channel of `subject`, in `mode`. */
function findOperation(service: string, action: "send" | "receive", type: string, subject: string, mode: SagaMode) {
  return operationsOf(service, action).find(
    (op) => op.types.includes(type) && addressMatches(op.address, subject) && (!op.modes || op.modes.includes(mode)),
  );
}

describe("docs/asyncapi.yaml", () => {
  it("is what `npm run asyncapi` writes from proto/ and the services", () => {
    expect(committed === messagingContractYaml(), "docs/asyncapi.yaml is stale: run `npm run asyncapi`").toBe(true);
  });

  it("`npm run asyncapi -- --check` refuses a stale file, saying what to run, and passes a fresh one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ftgo-asyncapi-"));
    const file = join(dir, "asyncapi.yaml");
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/asyncapi.ts", ...args, "--out", file], {
        cwd: ROOT,
      });
    try {
      writeFileSync(file, committed.replace("ftgo.order.v1.OrderCreated", "ftgo.order.v1.OrderMade"));
      const stale = await run("--check").then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(stale?.code).toBe(1);
      expect(stale?.stderr).toContain("is not what the contracts say");
      expect(stale?.stderr).toContain("run `npm run asyncapi`");
      await run();
      expect(readFileSync(file, "utf8")).toBe(committed);
      const fresh = await run("--check");
      expect(fresh.stdout).toContain("matches the contracts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("does what docs/messaging-contract.md shows: each command prints its documented line", async () => {
    const block = shBlock("docs/messaging-contract.md", "npm run asyncapi -- --check");
    const dir = mkdtempSync(join(tmpdir(), "ftgo-asyncapi-doc-"));
    const file = join(dir, "asyncapi.yaml");
    try {
      const commands = block.text.split("\n").filter((line) => line.trim() && !line.startsWith("#"));
      expect(commands.length).toBe(2);
      for (const line of commands) {
        const [command = "", expected = ""] = line.split(/\s+#\s+/);
        // The same command, writing to a temp file rather than over the committed one.
        const out = command.includes(" -- ") ? ` --out ${file}` : ` -- --out ${file}`;
        const { stdout } = await promisify(execFile)("sh", ["-c", command + out], { cwd: ROOT });
        expect(stdout).toContain(expected.replace("docs/asyncapi.yaml", relative(ROOT, file)));
      }
      expect(readFileSync(file, "utf8")).toBe(committed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is a valid AsyncAPI 3.0 document by the official parser", async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join("/")}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe("3.0.0");
    expect(document?.channels().length).toBeGreaterThan(30);
  });

  it("takes OrderCreated's payload from its descriptor: delivery_address included, limits as keywords", () => {
    const message = doc.components.messages["ftgo.order.v1.OrderCreated"];
    expect(message.contentType).toBe("application/x-protobuf");
    expect(message.payload).toEqual({ $ref: "#/components/schemas/ftgo.order.v1.OrderCreated" });
    const payload = doc.components.schemas["ftgo.order.v1.OrderCreated"];
    expect(payload.properties.deliveryAddress.allOf).toEqual([{ $ref: "#/components/schemas/ftgo.common.v1.Address" }]);
    expect(payload.properties.deliveryAddress["x-protobuf-field"]).toBe("delivery_address = 6");
    expect(payload.properties.deliverAt).toMatchObject({ type: "string", format: "date-time" });
    expect(payload.properties.orderId).toMatchObject({ maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]*$" });
    expect(payload.properties.lineItems).toMatchObject({ type: "array", minItems: 1, maxItems: 50 });
    expect(payload.required).toContain("orderId");
    // Descriptions are the proto comments.
    expect(payload.description).toContain("the first step of the Create Order saga");
    expect(doc.components.schemas["ftgo.common.v1.Money"].properties.minorUnits).toMatchObject({ type: "string" });
  });

  it("gives every message the envelope's headers, its own type in Ftgo-Type, and commands Ftgo-Reply-To", () => {
    const messages = Object.values(doc.components.messages as Record<string, Doc>);
    expect(messages.length).toBeGreaterThan(25);
    for (const message of messages) {
      const { properties, required } = message.headers;
      for (const header of [MessageHeader.MessageId, MessageHeader.CorrelationId, MessageHeader.Type]) {
        expect(required, `${message.name} requires ${header}`).toContain(header);
      }
      expect(properties[MessageHeader.Type].const).toBe(message["x-protobuf-type"]);
      expect(properties[MessageHeader.ContentType].const).toBe("application/x-protobuf");
      expect(message.correlationId.location).toBe(`$message.header#/${MessageHeader.CorrelationId}`);
    }
    const createTicket = doc.components.messages["ftgo.kitchen.v1.CreateTicket"];
    expect(Object.keys(createTicket.headers.properties)).toContain(MessageHeader.ReplyTo);
    expect(createTicket.headers.required).toContain(MessageHeader.NatsMsgId);
  });

  it.each(SAGA_MODES)("has a receive operation for every subscription a service makes under %s", (mode) => {
    const missing: string[] = [];
    let checked = 0;
    for (const [service, subscriptions] of Object.entries(serviceSubscriptions(mode))) {
      for (const { schema, channel } of subscriptions) {
        const subject =
          channel === "event"
            ? eventSubject(schema, 1)
            : channel === "command"
              ? commandSubject(schema, 1)
              : replySubject(replyChannel(service), schema, 1);
        checked++;
        if (!findOperation(service, "receive", schema.typeName, subject, mode)) {
          missing.push(`${service} receives ${schema.typeName} on ${subject}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(5);
  });

  it("declares what the Go Loyalty service consumes exactly as its binary lists its handlers", async () => {
    const binary = await buildLoyalty();
    const { stdout } = await promisify(execFile)(binary, ["-subscriptions"]);
    const declared = GO_SERVICE_SUBSCRIPTIONS.loyalty?.map((schema) => schema.typeName).sort();
    expect(stdout.trim().split("\n")).toEqual(declared);
    for (const type of declared ?? []) {
      expect(operationsOf("loyalty", "receive").flatMap((op) => op.types)).toContain(type);
    }
  }, 300_000);

  it("puts the courier quote request on the subject Delivery and the couriers use, the quote as its reply", () => {
    const subject = requestSubject(CourierQuoteRequestSchema);
    const request = operationsOf("delivery", "send").find((op) => op.address === subject);
    expect(request?.types).toEqual([CourierQuoteRequestSchema.typeName]);
    expect(operationsOf("courier", "receive").map((op) => op.address)).toEqual([subject]);
    const reply = doc.operations[request?.id ?? ""].reply;
    expect(doc.channels[String(reply.channel.$ref).replace("#/channels/", "")].address).toBeNull();
  });

  it("describes the partitions: how many, and how the key is chosen", () => {
    const partition = doc.components.parameters.partition;
    expect(partition.enum).toEqual([...Array(DEFAULT_PARTITIONS).keys()].map(String));
    expect(partition.description).toContain("FNV-1a");
    expect(partition.description).toContain(MessageHeader.CorrelationId);
    expect(doc.channels["order.event.order_created"].address).toBe("ftgo.order.event.order_created.{partition}");
  });
});

describe("the JSON Schema of a message type (proto3 JSON mapping)", () => {
  it("writes 64-bit integers as strings, enums by name, Timestamps as date-time, and keeps declared limits", () => {
    const collector = createSchemaCollector("#/s/");
    expect(collector.ref(OrderSchema)).toEqual({ $ref: "#/s/ftgo.order.v1.Order" });
    const schemas = collector.schemas();
    const order = schemas["ftgo.order.v1.Order"] as Doc;
    expect(order.properties.state).toEqual({ $ref: "#/s/ftgo.order.v1.OrderState", "x-protobuf-field": "state = 6" });
    expect((schemas["ftgo.order.v1.OrderState"] as Doc).enum).toContain("ORDER_STATE_APPROVED");
    expect(order.properties.createTime).toMatchObject({ type: "string", format: "date-time" });
    expect((schemas["ftgo.common.v1.Money"] as Doc).properties.minorUnits).toMatchObject({
      type: "string",
      pattern: "^-?[0-9]+$",
    });
    expect(order.properties.consumerId).toMatchObject({ maxLength: 64 });
  });
});

/**
 * Runs the sagas of `mode` on a real mesh through approval, rejection, cancellation, a refused cancel
 * and a delivery, then checks every message any service's outbox wrote, and the quote request on core
 * NATS, against the document's send operations: the right service, channel address and type.
 */
async function sendsMatchTheDocument(mesh: TestMesh, clients: MeshClients, mode: SagaMode) {
  const courier = await startTestCourier(mesh.nats.url, { id: "courier-doc", minutes: 20, price: 500 });
  try {
    const accepted = await acceptedOrder(clients, readyByInMinutes(30));
    await deliveryScheduled(clients, accepted);
    await clients.order.cancelOrder({ orderId: accepted }); // accepted already: the cancel is refused
    const cancelled = await placeOrderOverGrpc(clients, "c-1001");
    await orderReaches(clients, cancelled.orderId);
    await clients.order.cancelOrder({ orderId: cancelled.orderId });
    const declined = await placeOrderOverGrpc(clients, "c-1002");
    const suspended = await placeOrderOverGrpc(clients, "c-1003");
    for (const orderId of [declined.orderId, suspended.orderId]) await orderReaches(clients, orderId);
    await orderReaches(clients, cancelled.orderId, new Set([OrderState.CANCELLED]));
    await orderReaches(clients, accepted, new Set([OrderState.APPROVED]));
  } finally {
    await courier.stop();
  }
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const service of ["order", "consumer", "kitchen", "accounting", "delivery"]) {
    const db = new Database(join(mesh.dataDir, `${service}.db`), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT DISTINCT type, subject FROM outbox").all() as { type: string; subject: string }[];
      for (const { type, subject } of rows) {
        seen.add(type);
        if (!findOperation(service, "send", type, subject, mode)) missing.push(`${service} sent ${type} on ${subject}`);
      }
    } finally {
      db.close();
    }
  }
  expect(missing).toEqual([]);
  return seen;
}

describe("the messages the mesh really sends, under choreography; and GET /asyncapi.json", () => {
  let gatewayMesh: GatewayMesh;
  beforeAll(async () => {
    gatewayMesh = await startGatewayMesh();
  });
  afterAll(() => gatewayMesh?.stop());

  it("are each sent by the service, on the channel and with the type the document says", async () => {
    const { mesh } = gatewayMesh;
    const clients = meshClients(mesh);
    try {
      const seen = await sendsMatchTheDocument(mesh, clients, "choreography");
      for (const type of [
        "ftgo.order.v1.OrderCreated",
        "ftgo.delivery.v1.ScheduleDelivery",
        "ftgo.kitchen.v1.TicketCancellationRefused",
      ]) {
        expect(seen).toContain(type);
      }
    } finally {
      clients.close();
    }
  }, 60_000);

  it("answers the generator's document as JSON, and /openapi.json lists the route", async () => {
    const response = await fetch(`${gatewayMesh.url}/asyncapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual(messagingContract());
    const openapi = await call(`${gatewayMesh.url}/openapi.json`, undefined);
    expect(Object.keys(openapi.body.paths)).toContain("/asyncapi.json");
  });
});

describe("the messages the mesh really sends, under orchestration", () => {
  let mesh: TestMesh;
  let clients: MeshClients;
  beforeAll(async () => {
    mesh = await startTestMesh({ SAGA_MODE: "orchestration" });
    clients = meshClients(mesh);
  });
  afterAll(async () => {
    clients?.close();
    await mesh?.stop();
  });

  it("are each sent by the service, on the channel and with the type the document says", async () => {
    const seen = await sendsMatchTheDocument(mesh, clients, "orchestration");
    for (const type of ["ftgo.kitchen.v1.CreateTicket", "ftgo.consumer.v1.ConsumerVerified"])
      expect(seen).toContain(type);
  }, 60_000);
});
