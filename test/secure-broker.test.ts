// The broker as part of the mesh's trust boundary (issue 17 §1, docs/security.md). Each attack that worked on
// the learner's open broker — a forged CreditCardAuthorized, a fake Kitchen put into the registry, a rogue
// courier answering quote requests — is tried again on a secure-mode nats-server (TLS, a user per identity,
// broker-access.ts's permissions) from a plain client and from another identity's certificate, and the broker
// refuses it. Beside each refusal, the rightful identity does the same thing successfully, so each assertion
// would fail if the permissions were open.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCourierConfig, type RunningCourier, startCourier } from "@ftgo/courier";
import { loadGatewayConfig, type RunningGateway, startGateway } from "@ftgo/gateway";
import { CreditCardAuthorizedSchema } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { CourierQuoteRequestSchema, CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import { call, placeOrderThroughGateway, signIn } from "@ftgo/harness/gateway-calls.js";
import { buildLoyalty } from "@ftgo/harness/loyalty-process.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { acceptedOrder, placeOrderOverGrpc, sagaReaches } from "@ftgo/harness/saga-over-grpc.js";
import { type ServiceInstance, startService } from "@ftgo/harness/service-instance.js";
import { deliveryScheduled, readyByInMinutes } from "@ftgo/harness/test-couriers.js";
import {
  brokerInboxPrefix,
  createGrpcClient,
  createGrpcTransport,
  encodeBody,
  ensureEventStream,
  eventSubject,
  type MeshTls,
  messageHeaders,
  partitionOf,
  requestSubject,
  silentLogger,
  streamName,
} from "@ftgo/platform";
import { type NatsServerHandle, startNatsServer, waitFor } from "@ftgo/platform/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The registry's KV bucket (discovery/nats-kv.ts). */
const REGISTRY_BUCKET = "ftgo_registry";
const pkiDir = mkdtempSync(join(tmpdir(), "ftgo-secure-broker-pki-"));
let nats: NatsServerHandle;
const log: string[] = [];
const open: NatsConnection[] = [];

beforeAll(async () => {
  execFileSync("bash", ["scripts/pki.sh", "init"], { env: { ...process.env, FTGO_PKI_DIR: pkiDir }, stdio: "ignore" });
  nats = await startNatsServer({ pkiDir, onLog: (line) => log.push(line) });
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close()));
  await nats?.stop();
  rmSync(pkiDir, { recursive: true, force: true });
});

/** A connection presenting `identity`'s certificate from the test's PKI, to `server` (default: the attacks' broker). */
async function as(identity: string, server: NatsServerHandle = nats): Promise<NatsConnection> {
  const file = (name: string) => readFileSync(join(pkiDir, name), "utf8");
  const nc = await connect({
    servers: server.url,
    name: `attacker-as-${identity}`,
    inboxPrefix: brokerInboxPrefix(identity), // as connectNats sets it: each identity reads its own inboxes only
    tls: { ca: file("ca.crt"), cert: file(`${identity}.crt`), key: file(`${identity}.key`) },
  });
  open.push(nc);
  return nc;
}

/** Waits for nats-server to log a permissions violation on `subject` (2.9: `Publish Violation - User …, Subject "…"`). */
function violation(kind: "Publish" | "Subscription", subject: string): Promise<unknown> {
  return waitFor(() => log.some((line) => line.includes(`${kind} Violation`) && line.includes(`"${subject}"`)), {
    timeoutMs: 5_000,
    message: `nats-server to log a ${kind} permissions violation on ${subject}`,
  });
}

/** How many messages the stream holds on `subject`, read by the operator. */
async function storedOn(stream: string, subject: string): Promise<number> {
  const info = await (await jetstreamManager(await as("admin"))).streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe("a forged CreditCardAuthorized", () => {
  const orderId = "o-forged-1";
  const subject = eventSubject(CreditCardAuthorizedSchema, partitionOf(orderId, 4));
  const forged = () => ({
    body: encodeBody(CreditCardAuthorizedSchema, { orderId }),
    headers: messageHeaders({
      messageId: `forged-${Math.random()}`,
      type: CreditCardAuthorizedSchema.typeName,
      correlationId: orderId,
    }),
  });

  it("cannot even connect without a certificate of the mesh CA", async () => {
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 3_000 })).rejects.toThrow();
    const ca = readFileSync(join(pkiDir, "ca.crt"), "utf8"); // trusts the broker, but presents nothing
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 3_000, tls: { ca } })).rejects.toThrow();
    const plaintext = nats.url.replace("tls://", "nats://");
    await expect(connect({ servers: plaintext, reconnect: false, timeout: 3_000 })).rejects.toThrow();
  });

  it("is refused from another identity's certificate, and only Accounting's own event is stored", async () => {
    await ensureEventStream(await as("accounting"), "accounting");
    const stream = streamName("accounting", "event");
    for (const identity of ["kitchen", "courier-1", "gateway", "order"]) {
      const js = jetstream(await as(identity), { timeout: 1_500 });
      const { body, headers } = forged();
      await expect(js.publish(subject, body, { headers }), identity).rejects.toThrow();
    }
    await violation("Publish", subject);
    expect(await storedOn(stream, subject)).toBe(0);

    const { body, headers } = forged(); // the rightful publisher: stored
    await jetstream(await as("accounting")).publish(subject, body, { headers });
    expect(await storedOn(stream, subject)).toBe(1);
  });
});

describe("a fake Kitchen in the registry", () => {
  const fake = { id: "k-evil", service: "kitchen", host: "127.0.0.1", port: 1, zone: "" };

  it("is refused to every identity but Kitchen's: the registry never holds it", async () => {
    const kitchen = await new Kvm(await as("kitchen")).create(REGISTRY_BUCKET, { history: 1, ttl: 60_000 });
    for (const identity of ["accounting", "order", "gateway", "courier-2"]) {
      const kv = await new Kvm(jetstream(await as(identity), { timeout: 1_500 })).open(REGISTRY_BUCKET);
      await expect(kv.put(`kitchen.${fake.id}`, JSON.stringify(fake)), identity).rejects.toThrow();
    }
    await violation("Publish", `$KV.${REGISTRY_BUCKET}.kitchen.${fake.id}`);
    const operator = await new Kvm(await as("admin")).open(REGISTRY_BUCKET);
    expect(await operator.get(`kitchen.${fake.id}`)).toBeNull();

    await kitchen.put("kitchen.k-real", JSON.stringify({ ...fake, id: "k-real" })); // Kitchen's own key: stored
    expect((await operator.get("kitchen.k-real"))?.string()).toContain("k-real");
  });
});

describe("a rogue courier", () => {
  const subject = requestSubject(CourierQuoteRequestSchema);

  /** Delivery asks for quotes once and gathers, for a moment, who answered on its inbox. */
  async function askForQuotes(): Promise<{ answers: string[]; inbox: string }> {
    const delivery = await as("delivery");
    const inbox = createInbox(brokerInboxPrefix("delivery")); // as courier-quotes.ts takes it from the connection
    const answers: string[] = [];
    delivery.subscribe(inbox, {
      callback: (_err, msg: Msg) => void answers.push(msg.headers?.get("Ftgo-Courier") ?? "?"),
    });
    await delivery.flush();
    const headers = messageHeaders({
      messageId: "q-1",
      type: CourierQuoteRequestSchema.typeName,
      correlationId: "o-q-1",
    });
    delivery.publish(subject, encodeBody(CourierQuoteRequestSchema, { orderId: "o-q-1" }), { headers, reply: inbox });
    return { answers, inbox };
  }

  it("cannot subscribe to the quote requests nor answer on Delivery's inbox; a courier can", async () => {
    const heard: string[] = [];
    for (const identity of ["kitchen", "gateway", "accounting"]) {
      const rogue = await as(identity);
      rogue.subscribe(subject, { callback: (err) => void (err || heard.push(identity)) }); // err: the broker refused
    }
    await violation("Subscription", subject);

    const courier = await as("courier-1");
    courier.subscribe(subject, {
      callback: (_err, msg) => {
        const headers = messageHeaders({ messageId: "a-1", type: CourierQuoteSchema.typeName, correlationId: "o-q-1" });
        headers.set("Ftgo-Courier", "courier-1");
        msg.respond(encodeBody(CourierQuoteSchema, { courierId: "courier-1" }), { headers });
      },
    });
    await courier.flush();

    const { answers, inbox } = await askForQuotes();
    await waitFor(() => answers.includes("courier-1"), { timeoutMs: 5_000, message: "courier-1's quote" });
    expect(heard).toEqual([]); // no rogue heard the request

    const rogue = await as("kitchen"); // one that learned the inbox anyway cannot answer on it
    const headers = messageHeaders({ messageId: "a-2", type: CourierQuoteSchema.typeName, correlationId: "o-q-1" });
    headers.set("Ftgo-Courier", "rogue");
    rogue.publish(inbox, encodeBody(CourierQuoteSchema, { courierId: "rogue" }), { headers });
    await violation("Publish", inbox);
    expect(answers).toEqual(["courier-1"]);
  });

  it("cannot read another identity's inboxes, where its JetStream answers and pulled messages arrive", async () => {
    const eavesdropper = await as("kitchen");
    const heard: string[] = [];
    const accountingInboxes = `${brokerInboxPrefix("accounting")}.>`;
    eavesdropper.subscribe(accountingInboxes, { callback: (err, msg) => void (err || heard.push(msg.subject)) });
    await violation("Subscription", accountingInboxes);
    const accounting = await as("accounting"); // asks JetStream something: the answer goes to its own inbox
    await (await jetstreamManager(accounting)).streams.info(streamName("accounting", "event"));
    expect(heard).toEqual([]);
  });
});

describe("the learner's open broker, for contrast", () => {
  // What the secure mode refuses, the learner's mode (`make up`) allows any local process with a plain NATS client:
  // the same three moves succeed there. Only the registry's readers check an entry (host and port).
  it("takes a forged event, a fake Kitchen entry and a rogue courier's subscription from a client with no credential", async () => {
    const open = await startNatsServer();
    const nc = await connect({ servers: open.url });
    try {
      await ensureEventStream(nc, "accounting");
      const orderId = "o-open-1";
      const subject = eventSubject(CreditCardAuthorizedSchema, partitionOf(orderId, 4));
      const headers = messageHeaders({
        messageId: "forged-open",
        type: CreditCardAuthorizedSchema.typeName,
        correlationId: orderId,
      });
      await jetstream(nc).publish(subject, encodeBody(CreditCardAuthorizedSchema, { orderId }), { headers });
      const info = await (await jetstreamManager(nc)).streams.info(streamName("accounting", "event"), {
        subjects_filter: subject,
      });
      expect(info.state.subjects?.[subject]).toBe(1);

      const kv = await new Kvm(nc).create(REGISTRY_BUCKET, { history: 1, ttl: 60_000 });
      await kv.put(
        "kitchen.k-fake",
        JSON.stringify({ service: "kitchen", id: "k-fake", address: "127.0.0.1", port: 1 }),
      );
      expect(await kv.get("kitchen.k-fake")).not.toBeNull();

      const heard = new Promise<string>((resolve) => {
        nc.subscribe(requestSubject(CourierQuoteRequestSchema), { callback: (_err, msg) => resolve(msg.subject) });
      });
      await nc.flush();
      nc.publish(requestSubject(CourierQuoteRequestSchema), encodeBody(CourierQuoteRequestSchema, { orderId }));
      expect(await heard).toBe(requestSubject(CourierQuoteRequestSchema));
    } finally {
      await nc.close();
      await open.stop();
    }
  });
});

/** The files of `identity`'s certificate, as FTGO_TLS_* (a process's environment) and as MeshTls (an in-process client). */
function identityFiles(identity: string) {
  const files = {
    ca: join(pkiDir, "ca.crt"),
    cert: join(pkiDir, `${identity}.crt`),
    key: join(pkiDir, `${identity}.key`),
  };
  const env = { FTGO_TLS_CA: files.ca, FTGO_TLS_CERT: files.cert, FTGO_TLS_KEY: files.key };
  const tls: MeshTls = {
    ca: readFileSync(files.ca),
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    files,
  };
  return { env, tls };
}

const SAGA_SERVICES = ["order", "consumer", "kitchen", "accounting", "delivery"] as const;

for (const sagaMode of ["choreography", "orchestration"] as const) {
  // The permissions checked against the real system: every service its own process with its own certificate, over
  // TLS to the broker; a saga of each outcome, a delivery with a courier; and not one permissions violation logged.
  describe(`a secure mesh (${sagaMode})`, () => {
    let broker: NatsServerHandle;
    const brokerLog: string[] = [];
    let dataDir: string;
    const services: ServiceInstance[] = [];
    let courier: RunningCourier | undefined;
    let gateway: RunningGateway | undefined;
    let clients: MeshClients | undefined;

    beforeAll(async () => {
      broker = await startNatsServer({ pkiDir, onLog: (line) => brokerLog.push(line) });
      dataDir = mkdtempSync(join(tmpdir(), "ftgo-secure-mesh-"));
      // Loyalty (Go) first in one mode and last in the other: whichever creates the shared streams (Order's
      // events, the dead letters, the registry), the others must manage with their own permissions.
      const startLoyalty = async () => {
        const loyalty = await startService({
          name: "loyalty",
          program: { file: await buildLoyalty() },
          dataDir,
          natsUrl: broker.url,
          probe: "tcp",
          env: { ...identityFiles("loyalty").env, SAGA_MODE: sagaMode },
        });
        services.push(loyalty);
        const operator = await jetstreamManager(await as("admin", broker));
        const registered = async () => {
          const filter = { subjects_filter: `$KV.${REGISTRY_BUCKET}.loyalty.*` };
          const info = await operator.streams.info(`KV_${REGISTRY_BUCKET}`, filter).catch(() => undefined);
          return Object.keys(info?.state.subjects ?? {}).length > 0;
        };
        await waitFor(registered, {
          timeoutMs: 60_000,
          message: () => `Loyalty to register (it does once consuming)\n${loyalty.output()}`,
        });
      };
      if (sagaMode === "choreography") await startLoyalty();
      const started = await Promise.allSettled(
        SAGA_SERVICES.map((name) =>
          startService({
            name,
            dataDir,
            natsUrl: broker.url,
            probe: "tcp", // its gRPC health answers only a client with a certificate
            env: { ...identityFiles(name).env, SAGA_MODE: sagaMode },
          }),
        ),
      );
      const saga = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      services.push(...saga);
      const failed = started.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
      courier = await startCourier(
        loadCourierConfig({
          NATS_URL: broker.url,
          COURIER_ID: "courier-1",
          LOG_LEVEL: "silent",
          ...identityFiles("courier-1").env,
        }),
        silentLogger(),
      );
      if (sagaMode === "orchestration") await startLoyalty();
      const [order, consumer, kitchen, accounting, delivery] = saga as [
        ServiceInstance,
        ServiceInstance,
        ServiceInstance,
        ServiceInstance,
        ServiceInstance,
      ];
      // As the operator: admin may call every method (proto/access.json).
      clients = meshClients({ order, consumer, kitchen, accounting, delivery }, { tls: identityFiles("admin").tls });
      const privateKeyPem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
      const gatewayEnv = { PORT: "0", DATA_DIR: dataDir, NATS_URL: broker.url, LOG_LEVEL: "silent", DEV_SIGN_IN: "1" };
      gateway = await startGateway(
        loadGatewayConfig({
          ...gatewayEnv,
          JWT_PRIVATE_KEY: privateKeyPem.toString(),
          ...identityFiles("gateway").env,
        }),
        silentLogger(),
      );
    }, 240_000);

    afterAll(async () => {
      clients?.close();
      await gateway?.stop();
      await courier?.stop();
      await Promise.allSettled(services.map((service) => service.stop()));
      await broker?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it("approves, rejects, cancels and delivers orders with no permissions violation at the broker", async () => {
      const mesh = clients as MeshClients;
      const approved = await placeOrderOverGrpc(mesh, "c-1001");
      const declined = await placeOrderOverGrpc(mesh, "c-1002");
      await sagaReaches(mesh, approved.orderId, {
        order: "APPROVED",
        reason: "",
        ticket: "AWAITING_ACCEPTANCE",
        authorization: "AUTHORIZED",
      });
      await sagaReaches(mesh, declined.orderId, {
        order: "REJECTED",
        reason: "card ending 0002 was declined",
        ticket: "CREATE_REJECTED",
        authorization: "DECLINED",
      });
      await mesh.order.cancelOrder({ orderId: approved.orderId }); // the Cancel Order saga: its commands and replies
      await sagaReaches(mesh, approved.orderId, {
        order: "CANCELLED",
        reason: "",
        ticket: "CANCELLED",
        authorization: "REVERSED",
      });
      const delivered = await acceptedOrder(mesh, readyByInMinutes(10));
      expect((await deliveryScheduled(mesh, delivered)).courierId).toBe("courier-1");

      // Through the gateway (the registry read, domain events watched), and into Loyalty (Go) for its points.
      const url = `http://127.0.0.1:${gateway?.port}`;
      const token = await signIn(url, { consumerId: "c-1001" });
      const viaGateway = await placeOrderThroughGateway(url, token);
      await waitFor(
        async () => (await call(`${url}/api/v1/orders/${viaGateway}`, token)).body?.order?.state === "APPROVED",
        {
          timeoutMs: 15_000,
          message: `order ${viaGateway} APPROVED through the gateway`,
        },
      );
      // The dashboard's view of a service's dead letters: its AdminService reads them with its own NATS identity.
      const kitchenAddress = services.find(({ name }) => name === "kitchen")?.address ?? "";
      const { tls } = identityFiles("admin");
      const kitchenAdmin = createGrpcClient(AdminService, createGrpcTransport({ address: kitchenAddress, tls }));
      expect((await kitchenAdmin.listDeadLetters({})).deadLetters).toEqual([]);
      const operator = await jetstreamManager(await as("admin", broker));
      await waitFor(
        async () => (await operator.streams.info("FTGO_LOYALTY_EVENTS").catch(() => undefined))?.state.messages,
        {
          timeoutMs: 15_000,
          message: "Loyalty to publish points for the approved orders",
        },
      );
      expect(brokerLog.filter((line) => /Violation/.test(line))).toEqual([]);
      expect(services.flatMap((service) => service.crashes)).toEqual([]);
    }, 60_000);
  });
}
