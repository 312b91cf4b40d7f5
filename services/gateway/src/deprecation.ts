// Retiring an API in the open: every answer of a deprecated route — errors included, since a client that
// only ever fails is a client too — says that it is deprecated and since when (Deprecation, RFC 9745), when
// it will stop answering (Sunset, RFC 8594), and where its successor is (Link rel="successor-version", RFC
// 5829). A client's logs and any HTTP tool show it without reading documentation; the OpenAPI document says
// the same (openapi.ts), from the same rows of the routing map.
import type { FastifyInstance } from "fastify";
import type { DeprecationConfig, DeprecationsConfig } from "./config.js";

/** A route's retirement: the API that replaces it, and which configured schedule it follows. */
export interface Deprecation {
  /** The successor API's path, e.g. `/api/v2/orders`. */
  readonly successor: string;
  readonly schedule: keyof DeprecationsConfig;
}

/** The headers a deprecated route answers with. */
export function deprecationHeaders(config: DeprecationConfig, successor: string): Record<string, string> {
  const links = [`<${successor}>; rel="successor-version"`];
  if (config.infoUrl !== "") links.push(`<${config.infoUrl}>; rel="deprecation"; type="text/html"`);
  return {
    // A Structured Field Date: `@` and whole seconds since the epoch.
    deprecation: `@${Math.floor(config.deprecatedAt.getTime() / 1000)}`,
    // An IMF-fixdate, as in HTTP's Date header: "Sat, 05 Jun 2027 00:00:00 GMT".
    sunset: config.sunsetAt.toUTCString(),
    link: links.join(", "),
  };
}

/**
 * Adds the deprecation headers to every answer of the deprecated routes, keyed by their fastify URL
 * (`/api/v1/orders/:orderId`), just before it leaves: whatever produced it — the route, the error handler,
 * the body-size limit — carries them.
 */
export function announceDeprecations(
  app: FastifyInstance,
  routes: ReadonlyMap<string, Deprecation>,
  config: DeprecationsConfig,
): void {
  const byUrl = new Map(
    [...routes].map(([url, { successor, schedule }]) => [url, deprecationHeaders(config[schedule], successor)]),
  );
  app.addHook("onSend", async (request, reply, payload) => {
    const url = request.routeOptions.url;
    const headers = url === undefined ? undefined : byUrl.get(url);
    if (headers) reply.headers(headers);
    return payload;
  });
}
