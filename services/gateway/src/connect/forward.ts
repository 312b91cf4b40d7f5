// One handler per served method: admit the call (admit.ts), then forward it through the gateway's mesh
// client of its target (discovery, resilience), unary or server-streaming, and answer the backend's reply
// as it is. Errors leave as Connect/gRPC status codes a client can branch on: the gateway's own refusals
// (401, 403, 404, 429) by their meaning, a backend's status as it said it, and nothing unexpected
// becomes more than a plain INTERNAL.
import type { DescMethod, Message } from "@bufbuild/protobuf";
import { type CallOptions, Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { GatewayDeps } from "../context.js";
import { GatewayError } from "../errors.js";
import { admit } from "./admit.js";
import type { ServedRule } from "./rules.js";

type Unary = (request: Message, options: CallOptions) => Promise<Message>;
type ServerStream = (request: Message, options: CallOptions) => AsyncIterable<Message>;

/** Type-safety ends here on purpose: the method is called by name, from the descriptor in the table. */
function clientMethod<F>(deps: GatewayDeps, rule: ServedRule, method: DescMethod): F {
  const client = deps.backends[rule.target] as unknown as Record<string, F | undefined>;
  const call = client[method.localName];
  if (!call) throw new Error(`the ${rule.target} client has no method ${method.localName}`);
  return call;
}

/** The handler of a served method: unary or server-streaming (the contracts' public RPCs are no more). */
export function forwardMethod(deps: GatewayDeps, rule: ServedRule, method: DescMethod) {
  const name = `${method.parent.typeName}/${method.name}`;
  if (method.methodKind === "unary") return forwardUnary(deps, rule, method);
  if (method.methodKind === "server_streaming") return forwardServerStream(deps, rule, method);
  throw new Error(`${name}: only unary and server-streaming RPCs are forwarded`);
}

function forwardUnary(deps: GatewayDeps, rule: ServedRule, method: DescMethod) {
  return async (request: Message, ctx: HandlerContext): Promise<Message> => {
    try {
      const options = await admit(deps, rule, method.input, request, ctx);
      return await clientMethod<Unary>(deps, rule, method)(request, options);
    } catch (error) {
      throw edgeError(deps, method, error);
    }
  };
}

/** Each message of the backend's stream, as it comes. */
function forwardServerStream(deps: GatewayDeps, rule: ServedRule, method: DescMethod) {
  return async function* (request: Message, ctx: HandlerContext): AsyncIterable<Message> {
    try {
      const options = await admit(deps, rule, method.input, request, ctx);
      // A stream is bounded by the client's deadline, else by the longest the gateway streams (SSE_MAX_MS).
      options.timeoutMs = ctx.timeoutMs() ?? deps.config.sseMaxMs;
      yield* clientMethod<ServerStream>(deps, rule, method)(request, options);
    } catch (error) {
      throw edgeError(deps, method, error);
    }
  };
}

/** The gateway's HTTP refusals, as the status codes of the RPC protocols. */
const CODE_OF_STATUS: Readonly<Record<number, Code>> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.NotFound,
  409: Code.FailedPrecondition,
  413: Code.ResourceExhausted,
  429: Code.ResourceExhausted,
  503: Code.Unavailable,
};

/**
 * Any failure of a call as the error its client gets. A backend's error is re-made rather than passed
 * on, so its headers and trailers stay inside the mesh; a backend's full bulkhead (RESOURCE_EXHAUSTED) is
 * an outage here, as on REST, so RESOURCE_EXHAUSTED at the edge only ever means the caller's rate limit.
 */
export function edgeError(deps: GatewayDeps, method: DescMethod, error: unknown): ConnectError {
  if (error instanceof GatewayError) {
    return new ConnectError(error.message, CODE_OF_STATUS[error.status] ?? Code.Internal, error.headers);
  }
  if (error instanceof ConnectError) {
    if (error.code === Code.Canceled) return error;
    if (error.code === Code.ResourceExhausted) return new ConnectError(error.rawMessage, Code.Unavailable);
    if (error.code !== Code.Internal && error.code !== Code.Unknown) {
      return new ConnectError(error.rawMessage, error.code);
    }
  }
  deps.log.error({ err: error, rpc: `${method.parent.typeName}/${method.name}` }, "rpc failed");
  return new ConnectError("internal error", Code.Internal);
}
