// The dashboard at /dashboard: one page and its assets (services/gateway/dashboard/, served as they are:
// no build step), a Server-Sent Events stream of the mesh, and the page's actions. Admin only, behind a
// strict Content-Security-Policy: the page runs its own scripts and styles and talks to this origin only.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { Readable } from "node:stream";
import { OrderService } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BACKENDS } from "../config.js";
import type { GatewayDeps } from "../context.js";
import { DASHBOARD_ADMIN } from "../end-user.js";
import { describeError, invalidArgument, notFound } from "../errors.js";
import { withHeaders } from "../with-headers.js";
import {
  clearFaults,
  createLoadRunner,
  loadSizeOf,
  placeScenario,
  replayDeadLetter,
  scenarioOf,
  setFault,
} from "./actions.js";
import { createAdminClients } from "./admin-clients.js";
import { createDashboardFeed } from "./feed.js";
import { gatherMesh } from "./mesh-view.js";
import { createOrderHistory, orderRow } from "./order-history.js";
import { requireAdmin, requireFromPage, signInToDashboard, signOutOfDashboard } from "./session.js";
import { signInPage } from "./sign-in-page.js";
import { timelineOf } from "./timeline.js";
import { traceViewOf } from "./traces.js";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Where the page's files are: beside src/ in the gateway's package, however the gateway was started. */
export function dashboardDir(): string {
  const entry = createRequire(import.meta.url).resolve("@ftgo/gateway");
  return join(dirname(entry), "..", "dashboard");
}

export interface Dashboard {
  stop(): void;
}

export function mountDashboard(app: FastifyInstance, deps: GatewayDeps): Dashboard {
  const assets = readAssets(dashboardDir());
  const page = assets.get("index.html");
  if (!page) throw new Error(`the dashboard's index.html is missing from ${dashboardDir()}`);
  // Every call the dashboard makes is an admin's (every route of it requires one, and the feed runs only while
  // an admin's page watches): in the secure mode each carries the dashboard's admin claim (end-user.ts).
  // In the learner's mode the clients are used as they are.
  const asAdmin = deps.config.tls ? () => deps.claims.headersFor(DASHBOARD_ADMIN) : undefined;
  const clients = createAdminClients({ tls: deps.config.tls, headers: asAdmin });
  const order = asAdmin ? withHeaders(OrderService, deps.backends.order, asAdmin) : deps.backends.order;
  const backends = { ...deps.backends, order };
  const adminDeps = { ...deps, backends };
  const orders = createOrderHistory(backends);
  const load = createLoadRunner(backends, deps.log);
  const feed = createDashboardFeed({
    mesh: () => gatherMesh(adminDeps, clients, BACKENDS),
    orders,
    load: () => load.view(),
    log: deps.log,
  });

  const admin = (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      await requireAdmin(deps, request);
      reply.headers(SECURITY_HEADERS);
      return handler(request, reply);
    };
  };
  const action = (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    admin(async (request, reply) => {
      requireFromPage(request);
      return handler(request, reply);
    });

  app.get("/dashboard", async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    try {
      await requireAdmin(deps, request);
    } catch (error) {
      const { status, message } = describeError(error);
      const origin = `${request.protocol}://${request.headers.host ?? `${deps.config.host}:${deps.config.port}`}`;
      return reply
        .status(status)
        .type(TYPES[".html"] as string)
        .send(signInPage(message, deps.config.auth.devSignIn, origin));
    }
    return reply.type(page.type).send(page.body);
  });
  app.get("/dashboard/assets/:file", async (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (!asset || asset.name === "index.html") throw notFound(`no dashboard asset ${request.url}`);
    return reply.headers(SECURITY_HEADERS).type(asset.type).send(asset.body);
  });
  app.register(async (scope) => {
    // The sign-in form posts as browsers do: application/x-www-form-urlencoded, read as text.
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) =>
      done(null, body),
    );
    scope.post("/dashboard/session", (request, reply) => signInToDashboard(deps, request, reply));
    scope.post("/dashboard/session/end", (_request, reply) => signOutOfDashboard(reply));
  });

  app.get(
    "/dashboard/api/stream",
    admin(async (request, reply) => {
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = feed.subscribe((view) => {
        queue.push(`event: view\ndata: ${JSON.stringify(view)}\n\n`);
        wake?.();
      });
      const gone = new Promise<void>((resolve) => request.raw.once("close", resolve));
      async function* events() {
        try {
          yield ": the mesh, live\n\n";
          while (true) {
            while (queue.length > 0) yield queue.shift() as string;
            const next = new Promise<void>((resolve) => {
              wake = resolve;
            });
            if ((await Promise.race([next.then(() => "view"), gone.then(() => "gone")])) === "gone") return;
          }
        } finally {
          unsubscribe();
        }
      }
      reply.headers({ "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
      return reply.send(Readable.from(events()));
    }),
  );
  app.get(
    "/dashboard/api/orders/:orderId/timeline",
    admin(async (request) => timelineOf(adminDeps, clients, BACKENDS, orderIdOf(request))),
  );
  app.get(
    "/dashboard/api/orders/:orderId/trace",
    admin(async (request) => traceViewOf(deps.config.jaegerQueryUrl, orderIdOf(request))),
  );
  app.post(
    "/dashboard/api/orders",
    action(async (request, reply) => {
      const order = await placeScenario(backends, scenarioOf(request.body), deps.log);
      orders.note(order);
      reply.status(201);
      return { orderId: order.orderId, order: orderRow(order) };
    }),
  );
  app.post(
    "/dashboard/api/load",
    action(async (request, reply) => {
      reply.status(202);
      return load.start(loadSizeOf(request.body), (order) => orders.note(order));
    }),
  );
  app.post(
    "/dashboard/api/faults",
    action(async (request) => setFault(deps, clients, BACKENDS, request.body)),
  );
  app.post(
    "/dashboard/api/faults/clear",
    action(async (request) => clearFaults(deps, clients, BACKENDS, request.body)),
  );
  app.post(
    "/dashboard/api/dead-letters/replay",
    action(async (request) => replayDeadLetter(deps, clients, BACKENDS, request.body)),
  );

  return {
    stop() {
      feed.stop();
      clients.close();
    },
  };
}

/** An order id as the contracts allow it, or a 400 saying so. */
const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

function orderIdOf(request: FastifyRequest): string {
  const { orderId } = request.params as { orderId: string };
  if (!ORDER_ID.test(orderId)) throw invalidArgument(`${JSON.stringify(orderId.slice(0, 80))} is not an order id`);
  return orderId;
}

interface Asset {
  readonly name: string;
  readonly type: string;
  readonly body: Buffer;
}

/** The page's files, read once at start: a few kilobytes, served from memory. */
function readAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { name, type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}
