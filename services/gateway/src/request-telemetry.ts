// Each request's telemetry. A trace span (platform's startHttpServerSpan): opened when the request arrives,
// the parent of every gRPC call its route makes, and closed with the answer's status; a refused request's
// span says why (errors.ts records the reason), so a 401 or a 429 shows in a trace with its cause. And its
// duration in `http_server_duration_seconds`, by method, route and status, for Prometheus.
import { type HttpSpan, httpServerDuration, startHttpServerSpan } from "@ftgo/platform";
import type { FastifyInstance, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's span; its context is the one the route's handler runs in. */
    span?: HttpSpan;
  }
}

/** Client closed the connection before the answer: nginx's 499, as tracing back-ends show it. */
const CLIENT_CLOSED = 499;

export function installRequestTelemetry(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    const path = request.url.split("?", 1)[0] ?? request.url;
    request.span = startHttpServerSpan(request.method, routeOf(request), path, request.headers);
  });
  app.addHook("onResponse", async (request, reply) => {
    request.span?.end(reply.statusCode);
    const labels = { method: request.method, route: routeOf(request), status: String(reply.statusCode) };
    httpServerDuration.observe(labels, reply.elapsedTime / 1000);
  });
  app.addHook("onRequestAbort", async (request) => request.span?.end(CLIENT_CLOSED));
}

/** Notes on the request's span why it is answered with an error. */
export function noteRejection(request: FastifyRequest, status: number, reason: string): void {
  request.span?.reject(`${status}: ${reason}`);
}

/** The route's template (`/api/v1/orders/:orderId`): few values, unlike the path. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? "(no route)";
}
