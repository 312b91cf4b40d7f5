// What every route handler is given: the gateway's dependencies, built once by startGateway, and the
// request in hand. Its own file, below the routes and the edge functions, so that they all depend on it
// and it on none of them.
import type { JsonObject } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import type { Logger, Registry } from "@ftgo/platform";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ResponseCache } from "./cache.js";
import type { Backends } from "./clients.js";
import type { GatewayConfig } from "./config.js";
import type { EndUserClaims } from "./end-user.js";
import type { RateLimiter } from "./rate-limit.js";
import type { StreamSlots } from "./stream-slots.js";
import type { Authenticator, Caller } from "./tokens.js";

/** Everything a route may use, built once by startGateway. */
export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly backends: Backends;
  readonly registry: Registry;
  readonly authenticator: Authenticator;
  /** The signed end-user claims its backend calls carry in the secure mode (end-user.ts). */
  readonly claims: EndUserClaims;
  readonly limiter: RateLimiter;
  readonly cache: ResponseCache;
  /** Each caller's open event streams, bounded (sse.ts). */
  readonly streams: StreamSlots;
  readonly openapi: JsonObject;
  readonly log: Logger;
}

/** One request, as a route's handler sees it: the verified caller, and options for the calls it makes. */
export interface RouteContext {
  readonly deps: GatewayDeps;
  readonly caller: Caller;
  readonly params: Readonly<Record<string, string>>;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  /**
   * Carries the request id into every gRPC call, so one id follows the request through the mesh, and in the
   * secure mode the caller's signed end-user claim, so the services behind know whom the call is for.
   */
  readonly callOptions: CallOptions;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set once the request is authenticated; the request log names it. */
    caller?: Caller;
  }
}
