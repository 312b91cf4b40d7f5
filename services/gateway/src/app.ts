import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { connectNats, createRegistry, type Logger } from "@ftgo/platform";
import Fastify from "fastify";
import { clientErrorHandler, frameworkErrors, installUrlLimit } from "./bad-requests.js";
import { createResponseCache, invalidateOnEvents } from "./cache.js";
import { createBackends } from "./clients.js";
import type { GatewayConfig } from "./config.js";
import { serveHttp1AndH2c } from "./connect/h2c.js";
import { mountConnect } from "./connect/plugin.js";
import type { GatewayDeps } from "./context.js";
import { mountDashboard } from "./dashboard/plugin.js";
import { installEdgeRateLimit } from "./edge-limit.js";
import { createEndUserClaims } from "./end-user.js";
import { installErrorHandler } from "./errors.js";
import { buildOpenApi } from "./openapi.js";
import { createRateLimiter } from "./rate-limit.js";
import { installRequestLog, requestIdOf } from "./request-log.js";
import { installRequestTelemetry } from "./request-telemetry.js";
import { mountRoutes } from "./router.js";
import { ROUTES, servedRoutes } from "./routes.js";
import { createStreamSlots } from "./stream-slots.js";
import { createAuthenticator } from "./tokens.js";

export { type GatewayConfig, loadGatewayConfig } from "./config.js";

export interface RunningGateway {
  /** "host:port" it listens on. */
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts the API gateway: it discovers the services through the registry (it registers nothing itself:
 * no service calls the gateway), listens to their domain events to keep its cache honest, and serves the
 * routing map over HTTP. `stop()` stops accepting requests, lets those in flight finish, then closes
 * the clients and NATS.
 */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const nc = await connectNats({ url: config.natsUrl, name: config.service, log, tls: config.tls });
  const registry = await createRegistry(config.discovery, {
    nc,
    log,
    secure: config.tls !== undefined,
    streamReplicas: config.streamReplicas,
  });
  const backends = createBackends(config, registry, log);
  const cache = createResponseCache({ maxEntries: config.cacheMaxEntries });
  const invalidation = invalidateOnEvents(nc, cache, log);
  const routes = servedRoutes(ROUTES, config.auth.devSignIn);
  const openapi = buildOpenApi(routes, config.deprecations);
  const deps: GatewayDeps = {
    config,
    backends,
    registry,
    authenticator: await createAuthenticator(config.auth),
    claims: createEndUserClaims(config.tls),
    limiter: createRateLimiter(config.rateLimit),
    cache,
    streams: createStreamSlots(config.sseMaxPerCaller),
    openapi,
    log,
  };

  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdOf,
    requestTimeout: config.timeouts.requestMs,
    keepAliveTimeout: config.timeouts.keepAliveMs,
    connectionTimeout: config.timeouts.connectionMs,
    // HTTP/1.1 and cleartext HTTP/2 on the one port, so gRPC clients reach /rpc too.
    serverFactory: (handler, options) =>
      serveHttp1AndH2c(handler, { ...options, headersTimeout: config.timeouts.headersMs }),
    forceCloseConnections: "idle",
    frameworkErrors,
    clientErrorHandler,
  });
  installRequestTelemetry(app);
  installRequestLog(app, log);
  installErrorHandler(app, log);
  installEdgeRateLimit(app, config.edgeRateLimit);
  installUrlLimit(app);
  await app.register(swagger, { mode: "static", specification: { document: openapi as never } });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  mountRoutes(app, routes, deps);
  const dashboard = mountDashboard(app, deps);
  await mountConnect(app, deps);
  await app.listen({ host: config.host, port: config.port });

  const bound = app.server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : config.port;
  log.info(
    { address: `http://${config.host}:${port}`, routes: routes.length, devSignIn: config.auth.devSignIn },
    "gateway serving",
  );
  return {
    address: `${config.host}:${port}`,
    port,
    async stop() {
      dashboard.stop();
      await app.close();
      invalidation.stop();
      backends.close();
      await registry.close();
      await nc.drain();
    },
  };
}
