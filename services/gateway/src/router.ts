// Turns the routing map into fastify routes. Every route passes the same edge functions, in this order:
// authenticate (who is calling), authorize (may they call this route), rate-limit (per caller), then the
// route itself: a declared gRPC call translated both ways, or the route's own handler. A deprecated route's
// answers, whatever they are, carry its deprecation headers on the way out. A path of the map called with a
// method it does not serve answers 405 with `Allow`, not 404: the path exists, the method is the mistake.
import { type JsonObject, type JsonValue, type Message, ScalarType } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import { REQUEST_ID_HEADER, rateLimitedRequests } from "@ftgo/platform";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { authorize, requireOwnOrder } from "./auth.js";
import { sendCached } from "./cache.js";
import type { GatewayDeps, RouteContext } from "./context.js";
import { announceDeprecations, type Deprecation } from "./deprecation.js";
import { GatewayError, invalidArgument } from "./errors.js";
import { readIdempotencyKey } from "./idempotency-key.js";
import { rateLimited, rateLimitHeaders, rateLimitKey } from "./rate-limit.js";
import type { GrpcRoute, Route } from "./routes.js";
import type { Caller } from "./tokens.js";
import { toRequest, toRest } from "./translate.js";

export function mountRoutes(app: FastifyInstance, routes: readonly Route[], deps: GatewayDeps): void {
  const deprecated = new Map<string, Deprecation>();
  const served = new Map<string, string[]>();
  for (const route of routes) {
    const url = route.path.replace(/\{(\w+)\}/g, ":$1");
    if (route.deprecated) deprecated.set(url, route.deprecated);
    served.set(url, [...(served.get(url) ?? []), route.method]);
    const serve = async (request: FastifyRequest, reply: FastifyReply) => {
      const caller = await deps.authenticator.authenticate(request.headers.authorization);
      request.caller = caller;
      authorize(caller, route.auth);
      limitRate(deps, caller, request, reply);
      const ctx: RouteContext = {
        deps,
        caller,
        params: request.params as Record<string, string>,
        request,
        reply,
        callOptions: { headers: { [REQUEST_ID_HEADER]: request.id, ...(await deps.claims.headersFor(caller)) } },
      };
      if (route.kind === "grpc") return callGrpcRoute(route, ctx);
      refuseQuery(request);
      return route.handler(ctx);
    };
    app.route({
      method: route.method,
      url,
      // In the request's span: the route's gRPC calls are its children (request-telemetry.ts).
      handler: (request, reply) =>
        request.span ? request.span.run(() => serve(request, reply)) : serve(request, reply),
    });
  }
  for (const [url, methods] of served) refuseOtherMethods(app, url, methods);
  announceDeprecations(app, deprecated, deps.config.deprecations);
}

/** Every method fastify knows but the path's own answers 405, naming the ones it serves (HEAD wherever GET). */
function refuseOtherMethods(app: FastifyInstance, url: string, methods: readonly string[]): void {
  const allowed = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].sort();
  const others = app.supportedMethods.filter((method) => !allowed.includes(method));
  const refusal = () =>
    new GatewayError(
      405,
      "METHOD_NOT_ALLOWED",
      `${url.replace(/:(\w+)/g, "{$1}")} answers ${allowed.join(", ")} only`,
      {
        allow: allowed.join(", "),
      },
    );
  app.route({
    method: others,
    url,
    // Before the body is read: a body the route would refuse does not hide that the method is wrong.
    onRequest: async () => {
      throw refusal();
    },
    handler: async () => {
      throw refusal();
    },
  });
}

/** A route with a handler of its own takes no query parameters: one it would ignore is refused, as the rest are. */
function refuseQuery(request: FastifyRequest): void {
  const [name] = Object.keys(request.query as Record<string, unknown>);
  if (name !== undefined) throw invalidArgument(`unknown query parameter ${name}: this route takes none`);
}

function limitRate(deps: GatewayDeps, caller: Caller, request: FastifyRequest, reply: FastifyReply): void {
  const decision = deps.limiter.take(rateLimitKey(caller, request.ip));
  const { burst } = deps.config.rateLimit;
  if (!decision.allowed) {
    rateLimitedRequests.inc();
    throw rateLimited(decision, burst);
  }
  reply.headers(rateLimitHeaders(decision, burst));
}

/** Type-safety ends here on purpose: the call is made by method name, from the descriptor in the table. */
type UntypedClient = Record<string, (request: Message, options: CallOptions) => Promise<Message>>;

async function callGrpcRoute(route: GrpcRoute, ctx: RouteContext): Promise<unknown> {
  const { deps, params, reply } = ctx;
  if (route.ownOrder) await requireOwnOrder(ctx, route.ownOrder, params.orderId ?? "");
  const message = toRequest(route.rpc.input, requestJson(route, ctx));
  const call = async () => {
    const client = deps.backends[route.target] as unknown as UntypedClient;
    const response = await client[route.rpc.localName]?.(message, ctx.callOptions);
    if (!response) throw new Error(`${route.target} has no method ${route.rpc.localName}`);
    const json = toRest(route.rpc.output, response);
    return route.present ? route.present(json) : json;
  };
  reply.status(route.status ?? 200);
  if (!route.cache) return call();
  const { key, ttl } = route.cache;
  const ttlMs = deps.config.cache[ttl];
  return sendCached(ctx, key(params), ttlMs, `public, max-age=${Math.floor(ttlMs / 1000)}`, async () => ({
    value: await call(),
    cacheable: true,
  }));
}

/**
 * The request message's JSON: the body's fields, then path and query parameters, then the caller's id and
 * the Idempotency-Key header's key.
 */
function requestJson(route: GrpcRoute, { caller, params, request }: RouteContext): JsonValue {
  const { mapping, body } = { mapping: route.request, body: request.body };
  const set = (fields: readonly string[] | undefined, from: Readonly<Record<string, unknown>>) =>
    Object.fromEntries((fields ?? []).filter((field) => from[field] !== undefined).map((f) => [f, from[f]]));
  const gatewaySet = [
    ...(mapping.path ?? []),
    ...(mapping.query ?? []),
    ...(mapping.caller ? [mapping.caller] : []),
    ...(mapping.idempotencyKey ? [mapping.idempotencyKey] : []),
  ];
  let fromBody: JsonObject = {};
  if (mapping.body) {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw invalidArgument("the request body must be a JSON object");
    }
    fromBody = body as JsonObject;
    const taken = gatewaySet.find((field) => field in fromBody);
    if (taken) throw invalidArgument(`${taken} is not accepted in the body: the gateway sets it`);
  } else if (body !== undefined && body !== null && !(typeof body === "object" && Object.keys(body).length === 0)) {
    throw invalidArgument("this route takes no request body");
  }
  const query = request.query as Record<string, unknown>;
  const unknownParam = Object.keys(query).find((name) => !mapping.query?.includes(name));
  if (unknownParam) throw invalidArgument(`unknown query parameter ${unknownParam}`);
  const repeated = Object.entries(query).find(([, value]) => typeof value !== "string");
  if (repeated) throw invalidArgument(`query parameter ${repeated[0]} must be given once`);
  refuseNonIntegers(route, query as Record<string, string>);
  const callerId = mapping.caller && caller.role === "consumer" ? { [mapping.caller]: caller.subject } : {};
  const key = mapping.idempotencyKey ? { [mapping.idempotencyKey]: idempotencyKeyOf(route, request) } : {};
  return {
    ...fromBody,
    ...set(mapping.path, params),
    ...set(mapping.query, query),
    ...callerId,
    ...key,
  } as JsonObject;
}

/**
 * An integer parameter is written as one (`-?[0-9]+`), as the document's `type: integer` says: the protobuf
 * JSON reader would also take "1e3", "0x10" or " 1", which no client should come to rely on.
 */
function refuseNonIntegers(route: GrpcRoute, query: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(query)) {
    const field = route.rpc.input.fields.find((f) => f.jsonName === name);
    if (field?.fieldKind === "scalar" && INTEGERS.has(field.scalar) && !/^-?[0-9]+$/.test(value)) {
      throw invalidArgument(`query parameter ${name} must be an integer, written in decimal digits`);
    }
  }
}

const INTEGERS: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT32,
  ScalarType.SINT32,
  ScalarType.SFIXED32,
  ScalarType.UINT32,
  ScalarType.FIXED32,
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

function idempotencyKeyOf(route: GrpcRoute, request: FastifyRequest): string {
  const field = route.rpc.input.fields.find((f) => f.jsonName === route.request.idempotencyKey);
  if (!field) throw new Error(`${route.rpc.input.typeName} has no field ${route.request.idempotencyKey}`);
  return readIdempotencyKey(request.headers["idempotency-key"], field);
}
