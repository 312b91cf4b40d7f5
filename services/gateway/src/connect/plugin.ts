// Every served RPC of the mesh at /rpc/<package.Service>/<Method>, in the three protocols connect-fastify
// speaks on one route: Connect (JSON or binary, so `curl` works), gRPC-Web (browsers) and gRPC. The
// methods come from the rule table (rules.ts) and the services' descriptors; a withheld or unknown
// method is no route at all (404, which Connect clients read as UNIMPLEMENTED).
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { AccountingService } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { DeliveryService } from "@ftgo/gen/ftgo/delivery/v1/delivery_pb.js";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { OrderService as OrderServiceV2 } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import type { FastifyInstance } from "fastify";
import type { DeprecationsConfig } from "../config.js";
import type { GatewayDeps } from "../context.js";
import { type Deprecation, deprecationHeaders } from "../deprecation.js";
import { EDGE_REQUEST } from "./admit.js";
import { forwardMethod } from "./forward.js";
import { RPC_RULES } from "./rules.js";

/** Where the RPCs live: `/rpc/ftgo.kitchen.v1.KitchenService/GetMenu`. */
export const RPC_PREFIX = "/rpc";

const SHUTDOWN_GRACE_MS = 1_000;

/** The services whose methods the table may serve: those the gateway has a mesh client for. */
export const EDGE_SERVICES: readonly DescService[] = [
  KitchenService,
  OrderService,
  OrderServiceV2,
  AccountingService,
  DeliveryService,
  ConsumerService,
  LoyaltyService,
];

/** `package.Service/Method` of every method the table serves. */
export function servedRpcs(): string[] {
  return Object.entries(RPC_RULES)
    .filter(([, rule]) => rule.served)
    .map(([name]) => name);
}

/** Deprecated services, by their successor and schedule: every answer says so, as the v1 REST routes' do. */
const DEPRECATED: Readonly<Record<string, Deprecation>> = {
  [OrderService.typeName]: { successor: `${RPC_PREFIX}/${OrderServiceV2.typeName}`, schedule: "ordersV1" },
};

export async function mountConnect(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  await app.register(
    async (rpc) => {
      announceDeprecatedServices(rpc, deps.config.deprecations);
      await rpc.register(fastifyConnectPlugin, connectOptions(deps));
    },
    { prefix: RPC_PREFIX },
  );
}

/** Sets the headers before the call: connect-fastify copies them onto every answer, errors included. */
function announceDeprecatedServices(rpc: FastifyInstance, config: DeprecationsConfig): void {
  rpc.addHook("onRequest", async (request, reply) => {
    const service = request.url.slice(RPC_PREFIX.length + 1).split("/")[0] ?? "";
    const deprecation = DEPRECATED[service];
    if (deprecation) reply.headers(deprecationHeaders(config[deprecation.schedule], deprecation.successor));
  });
}

/** The package does not export its options' type; this is it. */
type ConnectPluginOptions = Parameters<typeof fastifyConnectPlugin>[1];

function connectOptions(deps: GatewayDeps): ConnectPluginOptions {
  return {
    readMaxBytes: deps.config.bodyLimitBytes,
    // An unknown field is refused with the field named, as the REST routes refuse it.
    jsonOptions: { ignoreUnknownFields: false },
    // On close, a stream still open (WatchOrder) ends with UNAVAILABLE after this grace, so the client
    // reconnects elsewhere and app.close() is not held open by it.
    shutdownTimeoutMs: SHUTDOWN_GRACE_MS,
    shutdownError: new ConnectError("the gateway is shutting down: call again", Code.Unavailable),
    contextValues: (request) => createContextValues().set(EDGE_REQUEST, request),
    routes(router) {
      for (const service of EDGE_SERVICES) {
        for (const method of service.methods) {
          const rule = RPC_RULES[`${service.typeName}/${method.name}`];
          if (!rule?.served) continue;
          // The handler's kind follows the method's (forwardMethod); the types cannot see it through a loop.
          router.rpc(method, forwardMethod(deps, rule, method) as never);
        }
      }
    },
  };
}
