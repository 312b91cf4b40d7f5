import { createPrivateKey } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { grpcurl } from "@ftgo/harness/grpcurl.js";
import { createTestPki, type TestPki } from "@ftgo/harness/secure-pki.js";
import { credentials, Client as GrpcChannel } from "@grpc/grpc-js";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallContext,
  createGrpcClient,
  createGrpcTransport,
  currentCall,
  END_USER_HEADER,
  type GrpcServer,
  type GrpcTransport,
  implement,
  serveGrpc,
  signEndUser,
} from "../src/grpc/index.js";
import { silentLogger } from "../src/log.js";
import type { MeshTls } from "../src/mesh-tls.js";
import { createMeshClient } from "../src/resilience/index.js";
import { fakeKitchen, RESTAURANT, rejection } from "./grpc-fixtures.js";
import { createTestRegistry, instanceOf, testPolicy } from "./resilience-fixtures.js";

// A kitchen served in the secure mode, called over real sockets with real certificates of scripts/pki.sh.
// proto/access.json lets order, the gateway, learners and admin call GetRestaurant, and only admin (or the
// gateway for an admin) call AdminService.
describe("serveGrpc in the secure mode (mTLS and the access table)", () => {
  let pki: TestPki;
  let otherPki: TestPki;
  let server: GrpcServer;
  const seen: (CallContext | undefined)[] = [];
  const transports: GrpcTransport[] = [];

  beforeAll(async () => {
    [pki, otherPki] = await Promise.all([createTestPki(["c-1001"]), createTestPki()]);
    const kitchen = fakeKitchen({
      getRestaurant: () => {
        seen.push(currentCall());
        return { restaurant: RESTAURANT };
      },
    });
    server = await serveGrpc({
      host: "127.0.0.1",
      port: 0,
      log: silentLogger(),
      services: [implement(KitchenService, kitchen)],
      tls: pki.tls("kitchen"),
    });
  });

  afterAll(async () => {
    for (const transport of transports) transport.close();
    await server?.close(0);
    pki?.remove();
    otherPki?.remove();
  });

  function connect(tls: MeshTls | undefined) {
    const transport = createGrpcTransport({ address: server.address, tls, defaultTimeoutMs: 3000 });
    transports.push(transport);
    return transport;
  }
  const kitchenAs = (tls: MeshTls | undefined) => createGrpcClient(KitchenService, connect(tls));
  const adminAs = (tls: MeshTls) => createGrpcClient(AdminService, connect(tls));
  const getRestaurant = { restaurantId: RESTAURANT.restaurantId };
  const claim = (header: string) => ({ headers: { [END_USER_HEADER]: header } });

  async function lastCallOf(tls: MeshTls, headers?: Record<string, string>): Promise<CallContext | undefined> {
    seen.length = 0;
    await kitchenAs(tls).getRestaurant(getRestaurant, { headers });
    return seen[0];
  }

  describe("the connection", () => {
    it("refuses a plaintext client", async () => {
      const error = await rejection(kitchenAs(undefined).getRestaurant(getRestaurant));

      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unavailable);
    });

    it("refuses a TLS client that presents no certificate", async () => {
      const channel = new GrpcChannel(server.address, credentials.createSsl(pki.tls("kitchen").ca));
      try {
        const error = await new Promise<Error & { code?: number }>((resolve) =>
          channel.makeUnaryRequest(
            "/grpc.health.v1.Health/Check",
            (bytes: Buffer) => bytes,
            (bytes: Buffer) => bytes,
            Buffer.alloc(0),
            { deadline: Date.now() + 3000 },
            (err) => resolve(err ?? new Error("the call succeeded")),
          ),
        );
        expect(error.code).toBe(Code.Unavailable);
      } finally {
        channel.close();
      }
    });

    it("refuses a client whose certificate another CA signed", async () => {
      // The client trusts our CA (so it would accept the server), but presents a certificate of its own CA.
      const stranger = { ...otherPki.tls("admin"), ca: pki.tls("admin").ca };

      const error = await rejection(kitchenAs(stranger).getRestaurant(getRestaurant));

      expect((error as ConnectError).code).toBe(Code.Unavailable);
    });

    it("is refused by a client that trusts only another CA (the server must prove its identity too)", async () => {
      const error = await rejection(kitchenAs(otherPki.tls("order")).getRestaurant(getRestaurant));

      expect((error as ConnectError).code).toBe(Code.Unavailable);
    });
  });

  describe("the server's identity", () => {
    it("is checked against the name a client expects: the kitchen's certificate cannot pass for consumer", async () => {
      const dial = (serverName: string) => {
        const transport = createGrpcTransport({ address: server.address, tls: pki.tls("order"), serverName });
        transports.push(transport);
        return createGrpcClient(KitchenService, transport).getRestaurant(getRestaurant);
      };

      const impostor = await rejection(dial("consumer"));
      const genuine = await dial("kitchen");

      expect((impostor as ConnectError).code).toBe(Code.Unavailable);
      expect(genuine.restaurant?.name).toBe(RESTAURANT.name);
    });
  });

  describe("the access table", () => {
    it("lets a service the table names call the method, and tells the handler who it is", async () => {
      const call = await lastCallOf(pki.tls("order"));

      expect(call?.peer).toEqual({ name: "order", role: "service" });
      expect(call?.endUser).toBeUndefined();
    });

    it("answers PERMISSION_DENIED, naming caller and method, to a service the table does not name", async () => {
      seen.length = 0;
      const error = await rejection(kitchenAs(pki.tls("accounting")).getRestaurant(getRestaurant));

      expect((error as ConnectError).code).toBe(Code.PermissionDenied);
      expect((error as ConnectError).rawMessage).toBe(
        "accounting (service) may not call ftgo.kitchen.v1.KitchenService/GetRestaurant",
      );
      expect(seen).toEqual([]); // the handler never ran
    });

    it("denies a method the service's wildcard closes to the caller (AcceptTicket for order)", async () => {
      const error = await rejection(kitchenAs(pki.tls("order")).acceptTicket({ orderId: "o-1" }));

      expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    });

    it("guards server-streaming methods too (WatchTickets is the gateway's and admin's)", async () => {
      const read = async (tls: MeshTls) => {
        const events = [];
        for await (const event of kitchenAs(tls).watchTickets({ restaurantId: RESTAURANT.restaurantId })) {
          events.push(event);
        }
        return events;
      };

      const denied = await rejection(read(pki.tls("c-1001")));

      expect((denied as ConnectError).code).toBe(Code.PermissionDenied);
      expect(await read(pki.tls("admin"))).toHaveLength(1);
    });

    it("keeps AdminService from a learner, and opens it to admin", async () => {
      const denied = await rejection(adminAs(pki.tls("c-1001")).listFaults({}));
      const faults = await adminAs(pki.tls("admin")).listFaults({});

      expect((denied as ConnectError).code).toBe(Code.PermissionDenied);
      expect((denied as ConnectError).rawMessage).toBe(
        "c-1001 (learner) may not call ftgo.admin.v1.AdminService/ListFaults",
      );
      expect(faults.faults).toEqual([]);
    });

    it("lets any certificate of the CA check health", async () => {
      const health = createGrpcClient(Health, connect(pki.tls("courier-1")));

      expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    });
  });

  describe("a mesh client", () => {
    it("calls the secure server over mTLS as its own identity when given config.tls", async () => {
      const registry = createTestRegistry();
      registry.set("kitchen", [instanceOf(server, "kitchen-1")]);
      const kitchen = createMeshClient(KitchenService, {
        target: "kitchen",
        registry,
        policy: testPolicy(),
        log: silentLogger(),
        tls: pki.tls("order"),
      });
      try {
        seen.length = 0;
        await kitchen.getRestaurant(getRestaurant);

        expect(seen[0]?.peer).toEqual({ name: "order", role: "service" });
      } finally {
        kitchen.close();
      }
    });
  });

  describe("the end-user claim", () => {
    it("reaches the handler when the gateway forwards one it signed", async () => {
      const gateway = pki.tls("gateway");
      const token = await signEndUser({ role: "consumer", subject: "c-42" }, gateway);

      const call = await lastCallOf(gateway, { [END_USER_HEADER]: token });

      expect(call?.peer).toEqual({ name: "gateway", role: "gateway" });
      expect(call?.endUser).toEqual({ role: "consumer", subject: "c-42" });
    });

    it("opens AdminService to the gateway only while it forwards an admin's claim", async () => {
      const gateway = pki.tls("gateway");
      const forAdmin = await signEndUser({ role: "admin", subject: "ops" }, gateway);
      const forConsumer = await signEndUser({ role: "consumer", subject: "c-42" }, gateway);

      const faults = await adminAs(gateway).listFaults({}, claim(forAdmin));
      const asConsumer = await rejection(adminAs(gateway).listFaults({}, claim(forConsumer)));
      const alone = await rejection(adminAs(gateway).listFaults({}));

      expect(faults.faults).toEqual([]);
      expect((asConsumer as ConnectError).code).toBe(Code.PermissionDenied);
      expect((alone as ConnectError).code).toBe(Code.PermissionDenied);
    });

    it("ignores a claim a learner sends, even one the gateway signed", async () => {
      const token = await signEndUser({ role: "admin", subject: "ops" }, pki.tls("gateway"));

      const call = await lastCallOf(pki.tls("c-1001"), { [END_USER_HEADER]: token });

      expect(call?.peer).toEqual({ name: "c-1001", role: "learner" });
      expect(call?.endUser).toBeUndefined();
    });

    it("answers UNAUTHENTICATED when the gateway forwards a claim signed with another key", async () => {
      const forged = await signEndUser({ role: "admin", subject: "ops" }, { ...pki.tls("c-1001") });

      const error = await rejection(kitchenAs(pki.tls("gateway")).getRestaurant(getRestaurant, claim(forged)));

      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      expect((error as ConnectError).rawMessage).toMatch(/^the end-user claim is not valid/);
    });

    it("answers UNAUTHENTICATED to an expired claim", async () => {
      const gateway = pki.tls("gateway");
      const expired = await signEndUser({ role: "consumer", subject: "c-42" }, gateway, -60);

      const error = await rejection(kitchenAs(gateway).getRestaurant(getRestaurant, claim(expired)));

      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      expect((error as ConnectError).rawMessage).toMatch(/expired/);
    });

    it("is an ES256 JWT for the mesh, issued in the signer's name, expiring ttlSeconds from now", async () => {
      const token = await signEndUser({ role: "consumer", subject: "c-42" }, pki.tls("gateway"), 30);

      const claims = decodeJwt(token);
      expect(decodeProtectedHeader(token).alg).toBe("ES256");
      expect(claims).toMatchObject({ iss: "gateway", aud: "ftgo-mesh", sub: "c-42", role: "consumer" });
      expect((claims.exp ?? 0) - Math.floor(Date.now() / 1000)).toBeGreaterThan(25);
    });

    it("answers UNAUTHENTICATED to a claim the gateway signed for another audience", async () => {
      const gateway = pki.tls("gateway");
      const elsewhere = await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "ES256" })
        .setSubject("ops")
        .setIssuer("gateway")
        .setAudience("somewhere-else")
        .setExpirationTime("1m")
        .sign(createPrivateKey(gateway.key));

      const error = await rejection(adminAs(gateway).listFaults({}, claim(elsewhere)));

      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      expect((error as ConnectError).rawMessage).toMatch(/"aud" claim/);
    });

    it("answers UNAUTHENTICATED to a claim that is no JWT", async () => {
      const error = await rejection(kitchenAs(pki.tls("gateway")).getRestaurant(getRestaurant, claim("not-a-jwt")));

      expect((error as ConnectError).code).toBe(Code.Unauthenticated);
    });
  });

  describe("grpcurl", () => {
    it("checks health with a learner's certificate", async () => {
      const learner = pki.tls("c-1001").files;
      const args = ["-cacert", learner.ca, "-cert", learner.cert, "-key", learner.key];

      const result = await grpcurl(...args, server.address, "grpc.health.v1.Health/Check");

      expect(result.stdout).toContain('"status": "SERVING"');
    });

    it("cannot reach the secure server in plaintext", async () => {
      const result = await grpcurl("-plaintext", "-max-time", "3", server.address, "grpc.health.v1.Health/Check");

      expect(result.code).not.toBe(0);
      expect(result.stdout).not.toContain("SERVING");
    });
  });
});

describe("serveGrpc in the learner's mode", () => {
  it("serves plaintext callers with no peer and no end user, claim or not", async () => {
    const seen: (CallContext | undefined)[] = [];
    const kitchen = fakeKitchen({
      getRestaurant: () => {
        seen.push(currentCall());
        return { restaurant: RESTAURANT };
      },
    });
    const server = await serveGrpc({
      host: "127.0.0.1",
      port: 0,
      log: silentLogger(),
      services: [implement(KitchenService, kitchen)],
    });
    const transport = createGrpcTransport({ address: server.address });
    try {
      const client = createGrpcClient(KitchenService, transport);
      await client.getRestaurant(
        { restaurantId: RESTAURANT.restaurantId },
        { headers: { [END_USER_HEADER]: "x.y.z" } },
      );
      const faults = await createGrpcClient(AdminService, transport).listFaults({});

      expect(seen[0]?.peer).toBeUndefined();
      expect(seen[0]?.endUser).toBeUndefined();
      expect(faults.faults).toEqual([]);
    } finally {
      transport.close();
      await server.close(0);
    }
  });
});
