// One log line per request, written when the response is done, and the request id that ties it to every
// log line the request causes in the mesh: taken from the client's `x-request-id` when it is sane, else
// made here; returned to the client and passed on in the metadata of every gRPC call.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type Logger, REQUEST_ID_HEADER } from "@ftgo/platform";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** A client's id is reused only if it is short and plain: it ends up in every service's logs. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** fastify's `genReqId`: the caller's request id, or a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === "string" && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The request headers a request's line names: enough to tell a browser from a script, and whether credentials
 * came, never what they were: the logger redacts `headers.authorization` and `headers.cookie` (log.ts).
 */
const LOGGED_HEADERS = ["user-agent", "content-type", "content-length", "authorization", "cookie"] as const;

function headersOf(request: FastifyRequest): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name of LOGGED_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = name === "user-agent" ? String(value).slice(0, 200) : value;
  }
  return headers;
}

export function installRequestLog(app: FastifyInstance, log: Logger): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const caller = request.caller;
    log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? "(no route)",
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        requestId: request.id,
        subject: caller && caller.role !== "anonymous" ? caller.subject : undefined,
        headers: headersOf(request),
      },
      "request",
    );
  });
}
