// The edge functions of one /rpc call, in the order the REST routes apply them: authenticate (who is
// calling), authorize (may they call this method: its row in rules.ts), rate-limit (the same bucket as
// their REST requests), check the request against the contract's declared limits, then the object-level
// check (their own order, their own consumer id). What passes is forwarded with the request id and, in the
// secure mode, the caller's signed end-user claim (end-user.ts).
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { type CallOptions, Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import { describeViolations, REQUEST_ID_HEADER } from "@ftgo/platform";
import type { FastifyRequest } from "fastify";
import { authorize, mayReadOrdersOf } from "../auth.js";
import type { GatewayDeps } from "../context.js";
import { notFound } from "../errors.js";
import type { OrderApi } from "../order-api.js";
import { rateLimited, rateLimitHeaders, rateLimitKey } from "../rate-limit.js";
import type { Caller } from "../tokens.js";
import type { ServedRule } from "./rules.js";

/** The fastify request a call arrived on (its id, its address), handed to every handler by the plugin. */
export const EDGE_REQUEST = createContextKey<FastifyRequest | undefined>(undefined, {
  description: "the fastify request of an /rpc call",
});

/** Admits one call by `rule`, or throws; the options to forward it with. `message` may get the caller's id. */
export async function admit(
  deps: GatewayDeps,
  rule: ServedRule,
  input: DescMessage,
  message: Message,
  ctx: HandlerContext,
): Promise<CallOptions> {
  const request = ctx.values.get(EDGE_REQUEST);
  if (!request) throw new Error("an /rpc call arrived without its fastify request");
  const caller = await deps.authenticator.authenticate(ctx.requestHeader.get("authorization") ?? undefined);
  request.caller = caller;
  authorize(caller, rule.access);
  takeRateToken(deps, caller, request.ip, ctx);
  const fields = message as Message & Record<string, unknown>;
  if (rule.owns?.kind === "consumer") actAsCaller(caller, fields);
  const violations = describeViolations(input, message);
  if (violations !== undefined) throw new ConnectError(violations, Code.InvalidArgument);
  const headers = { [REQUEST_ID_HEADER]: request.id, ...(await deps.claims.headersFor(caller)) };
  const options: CallOptions = { headers, signal: ctx.signal };
  if (rule.owns?.kind === "order") await requireOwnOrder(deps, rule.owns.api, caller, String(fields.orderId), options);
  return options;
}

function takeRateToken(deps: GatewayDeps, caller: Caller, ip: string, ctx: HandlerContext): void {
  const decision = deps.limiter.take(rateLimitKey(caller, ip));
  const { burst } = deps.config.rateLimit;
  if (!decision.allowed) throw rateLimited(decision, burst);
  for (const [name, value] of Object.entries(rateLimitHeaders(decision, burst))) ctx.responseHeader.set(name, value);
}

/** Another consumer's order is answered exactly like a missing one, as on REST. */
async function requireOwnOrder(
  deps: GatewayDeps,
  api: OrderApi,
  caller: Caller,
  orderId: string,
  options: CallOptions,
): Promise<void> {
  const order = await api.getOrder(deps.backends, orderId, options);
  if (!order || !mayReadOrdersOf(caller, String(order.consumerId))) throw notFound(`order ${orderId} not found`);
}

/** A consumer's request names the consumer themselves (filled in when empty); an admin names anyone, or no one. */
function actAsCaller(caller: Caller, message: Record<string, unknown>): void {
  if (caller.role !== "consumer") return;
  const named = String(message.consumerId ?? "");
  if (named !== "" && named !== caller.subject) {
    throw new ConnectError(
      `consumerId ${named} is not the caller: a consumer acts only as themselves`,
      Code.PermissionDenied,
    );
  }
  message.consumerId = caller.subject;
}
