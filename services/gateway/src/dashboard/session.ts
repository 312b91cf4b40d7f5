// Who may see the dashboard: administrators, proved like everywhere else at the edge by a bearer token —
// in the Authorization header (scripts, tests), or in the dashboard's own cookie, which a browser sends by
// itself (a page cannot put a header on a navigation or an EventSource). The cookie is set by the sign-in
// form from a token the person pastes, or by the development sign-in; it is HttpOnly (no script reads
// it), SameSite=Strict (no other site's page sends it) and scoped to /dashboard.
import type { FastifyReply, FastifyRequest } from "fastify";
import { authorize } from "../auth.js";
import type { GatewayDeps } from "../context.js";
import { GatewayError, invalidArgument } from "../errors.js";
import type { Caller } from "../tokens.js";

export const SESSION_COOKIE = "ftgo_dashboard";
/** The header every state-changing call of the page carries: a form on another site cannot send it. */
export const PAGE_HEADER = "x-requested-with";
export const PAGE_HEADER_VALUE = "ftgo-dashboard";

/** The admin behind the request, or a 401 (no token) / 403 (not an admin) GatewayError. */
export async function requireAdmin(deps: GatewayDeps, request: FastifyRequest): Promise<Caller> {
  const token = cookieOf(request.headers.cookie, SESSION_COOKIE);
  const authorization = request.headers.authorization ?? (token ? `Bearer ${token}` : undefined);
  const caller = await deps.authenticator.authenticate(authorization);
  request.caller = caller;
  authorize(caller, "admin");
  return caller;
}

/** A state-changing request must come from the page: JSON, with the page's header. */
export function requireFromPage(request: FastifyRequest): void {
  if (request.headers[PAGE_HEADER] !== PAGE_HEADER_VALUE) {
    throw new GatewayError(
      403,
      "PERMISSION_DENIED",
      `dashboard actions need the header ${PAGE_HEADER}: ${PAGE_HEADER_VALUE}`,
    );
  }
}

/**
 * POST /dashboard/session (the sign-in form): `token=<admin token>`, or `dev=1` for the development
 * sign-in where it is on. Sets the cookie and sends the browser to the dashboard; a wrong or non-admin
 * token is refused like on any route.
 */
export async function signInToDashboard(
  deps: GatewayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const form = new URLSearchParams(typeof request.body === "string" ? request.body : "");
  let token = form.get("token")?.trim() ?? "";
  if (form.get("dev") === "1") {
    if (!deps.config.auth.devSignIn) throw invalidArgument("development sign-in is disabled: paste an admin token");
    token = await deps.authenticator.issue({ role: "admin", subject: "admin" });
  }
  if (token === "") throw invalidArgument("paste an admin token, or use the development sign-in");
  authorize(await deps.authenticator.authenticate(`Bearer ${token}`), "admin");
  const maxAge = Math.floor(deps.config.auth.ttlSeconds);
  reply.header(
    "set-cookie",
    `${SESSION_COOKIE}=${token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`,
  );
  await reply.redirect("/dashboard", 303);
}

/** POST /dashboard/session/end: forgets the cookie. */
export async function signOutOfDashboard(reply: FastifyReply): Promise<void> {
  reply.header("set-cookie", `${SESSION_COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0`);
  await reply.redirect("/dashboard", 303);
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}
