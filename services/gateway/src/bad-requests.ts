// What the gateway answers to requests it cannot route or even read, in the shape of every other error
// (`{ "error": { "code", "message" } }`) instead of fastify's and Node's own bodies, which differ and echo
// the request's URL back whole. Three places see such requests: a hook on every routed request (a URL too
// long), fastify's framework errors (a path parameter too long, a malformed URL), and the HTTP server's
// client errors (headers too large, a request too slow to arrive, an unparsable request).
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorBody, GatewayError } from "./errors.js";

/** The longest URL (path and query) served: far above any route's, as common proxies' 8 KB line. */
export const MAX_URL_LENGTH = 8_192;

/** A URL longer than MAX_URL_LENGTH gets 414, whatever route it would have reached (the 404 handler's too). */
export function installUrlLimit(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    if (request.url.length > MAX_URL_LENGTH) throw uriTooLong();
  });
}

const uriTooLong = () =>
  new GatewayError(414, "URI_TOO_LONG", `the URL is longer than the ${MAX_URL_LENGTH} characters the gateway reads`);

/** fastify's `frameworkErrors`: errors found while routing, before any hook or handler runs. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const refusal =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? uriTooLong()
      : error.code === "FST_ERR_BAD_URL"
        ? new GatewayError(400, "INVALID_ARGUMENT", "the URL is malformed: a percent-encoding does not decode")
        : new GatewayError(400, "INVALID_ARGUMENT", "the request is malformed");
  const body: ErrorBody = { error: { code: refusal.code, message: refusal.message } };
  reply.status(refusal.status).send(body);
}

/** The Node HTTP server's errors before a request exists, by its error code. */
const CLIENT_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: "REQUEST_TIMEOUT",
    message: "the request did not arrive in time (headers, then the whole request, each have a deadline)",
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    message: "the request line and headers are too large",
  },
};

/**
 * fastify's `clientErrorHandler`: answers in the gateway's error shape, then closes the connection, as Node
 * and fastify do. A reset connection has nobody left to answer.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const { status, code, message } = CLIENT_ERRORS[error.code ?? ""] ?? {
    status: 400,
    code: "INVALID_ARGUMENT",
    message: "the request is not HTTP the gateway can read",
  };
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
