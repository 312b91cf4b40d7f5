// Authorization at the edge: which callers a route admits, and whose orders a caller may see. The caller
// is already verified (tokens.ts), once, so the services behind the gateway trust the consumer id it
// passes on. Also the development sign-in, which issues the tokens.
import type { RouteContext } from "./context.js";
import { GatewayError, invalidArgument, notFound } from "./errors.js";
import type { OrderApi } from "./order-api.js";
import type { Caller, JwkSet } from "./tokens.js";

/**
 * Who may call a route: anyone; any signed-in caller (a consumer, or an admin reading for any consumer);
 * a consumer only (the route acts as the caller, and an admin is nobody's consumer); admins only.
 */
export type Access = "public" | "consumer" | "consumer-only" | "admin";

/** Refuses a caller that `access` does not admit: 401 to the anonymous, 403 to the signed-in. */
export function authorize(caller: Caller, access: Access): void {
  if (access === "public") return;
  if (caller.role === "anonymous") {
    throw new GatewayError(401, "UNAUTHENTICATED", "this route needs a bearer token", {
      "www-authenticate": 'Bearer realm="ftgo"',
    });
  }
  if (access === "admin" && caller.role !== "admin") {
    throw new GatewayError(403, "PERMISSION_DENIED", "this route is for administrators");
  }
  if (access === "consumer-only" && caller.role !== "consumer") {
    throw new GatewayError(403, "PERMISSION_DENIED", "only a consumer can do this: an administrator orders for nobody");
  }
}

/** A consumer reads only their own orders; an admin reads anyone's. */
export function mayReadOrdersOf(caller: Caller, consumerId: string): boolean {
  return caller.role === "admin" || (caller.role === "consumer" && caller.subject === consumerId);
}

/**
 * Another consumer's order is answered exactly like a missing one: its existence is not the caller's
 * business. Asked through the version of the orders API the client called, so v2 needs nothing of v1.
 */
export async function requireOwnOrder(
  { deps, caller, callOptions }: RouteContext,
  orders: OrderApi,
  orderId: string,
): Promise<void> {
  const order = await orders.getOrder(deps.backends, orderId, callOptions);
  if (!order || !mayReadOrdersOf(caller, String(order.consumerId))) throw notFound(`order ${orderId} not found`);
}

const CONSUMER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * POST /api/v1/auth/token, the development sign-in: `{"consumerId":"c-1001"}` or `{"role":"admin"}` →
 * `{"accessToken"}`, no password asked. Off unless DEV_SIGN_IN=1 (the route is then not even mounted): a real
 * deployment signs in through an identity provider; the rest of the gateway only ever sees verified tokens either way.
 */
export async function signIn({ deps, request }: RouteContext): Promise<{ accessToken: string }> {
  if (!deps.config.auth.devSignIn) throw notFound("development sign-in is disabled");
  const body = request.body as { consumerId?: unknown; role?: unknown } | undefined;
  const keys = typeof body === "object" && body !== null ? Object.keys(body) : [];
  if (keys.length === 1 && body?.role === "admin") {
    return { accessToken: await deps.authenticator.issue({ role: "admin", subject: "admin" }) };
  }
  if (keys.length === 1 && typeof body?.consumerId === "string" && CONSUMER_ID.test(body.consumerId)) {
    return { accessToken: await deps.authenticator.issue({ role: "consumer", subject: body.consumerId }) };
  }
  throw invalidArgument('the body must be {"consumerId": "c-…"} or {"role": "admin"}');
}

/**
 * GET /.well-known/jwks.json: the public keys tokens are verified with (RFC 7517), the current one first, so that
 * another party can verify the gateway's tokens itself. Cached by clients for five minutes: a rotation publishes
 * the new key, and keeps the old one listed, for longer than that.
 */
export async function publishKeys({ deps, reply }: RouteContext): Promise<JwkSet> {
  reply.header("cache-control", "public, max-age=300");
  return deps.authenticator.jwks;
}
