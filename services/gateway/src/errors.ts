import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@ftgo/platform";
import type { FastifyError, FastifyInstance } from "fastify";
import { noteRejection } from "./request-telemetry.js";

/**
 * The one table from gRPC status to HTTP status. A backend's answer keeps its meaning at the edge:
 * NOT_FOUND stays 404, an outage becomes 503, and nothing a backend says becomes a 500 except INTERNAL.
 */
const HTTP_STATUS: Readonly<Record<Code, number>> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 503, // a backend's full bulkhead is an outage; 429 is the gateway's own limit
  [Code.FailedPrecondition]: 409,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** An answer the gateway gives itself (auth, limits, bad input), in the same shape as a backend's. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly status: number,
    /** What a client branches on: "NOT_FOUND", "RATE_LIMITED", … */
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new GatewayError(404, "NOT_FOUND", message);
export const invalidArgument = (message: string) => new GatewayError(400, "INVALID_ARGUMENT", message);
export const unavailable = (message: string) => new GatewayError(503, "UNAVAILABLE", message);

/** The body of every error the gateway sends. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** `Code.NotFound` → "NOT_FOUND". */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Any error, as the status, code and message a client may see. Unexpected ones say nothing of their insides. */
export function describeError(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof GatewayError) return error;
  if (error instanceof ConnectError) {
    const status = HTTP_STATUS[error.code];
    return { status, code: codeName(error.code), message: status >= 500 ? publicMessage(error) : error.rawMessage };
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.statusCode !== undefined && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return {
      status: fastify.statusCode,
      code: FASTIFY_CODES[fastify.statusCode] ?? "BAD_REQUEST",
      message: fastify.message ?? "",
    };
  }
  return { status: 500, code: "INTERNAL", message: "internal error" };
}

/** The status of an outage names the failing service (the platform's messages do) but not its addresses. */
function publicMessage(error: ConnectError): string {
  return error.code === Code.Internal || error.code === Code.Unknown ? "internal error" : error.rawMessage;
}

/** Fastify's own client errors (malformed JSON, body too large, wrong content type) by status. */
const FASTIFY_CODES: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/**
 * The gateway's one error handler, and its answer to unknown routes: every failure leaves as
 * `{ "error": { "code", "message" } }` with the status from the table above. Only unexpected failures
 * are logged as errors; a client's mistake is part of a normal day.
 */
export function installErrorHandler(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, code, message } = describeError(error);
    noteRejection(request, status, message);
    if (status >= 500) log.error({ err: error, requestId: request.id }, "request failed");
    if (error instanceof GatewayError) reply.headers(error.headers);
    const body: ErrorBody = { error: { code, message } };
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    // The URL is named, not echoed whole: an answer is no mirror of whatever a client sends.
    const shown = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
    const body: ErrorBody = { error: { code: "NOT_FOUND", message: `no route ${request.method} ${shown}` } };
    return reply.status(404).send(body);
  });
}
