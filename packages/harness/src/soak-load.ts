// The soak's customers: orders placed through the gateway's REST API (POST /api/v2/orders) with the dev
// sign-in's tokens, along a mix of the seed's paths. Each order carries an Idempotency-Key of its own and is
// retried with that same key after a connection error or a 5xx/429 — during chaos these are expected, and
// counted — so a retry can return the order a lost answer created but never create a second one.
import { setTimeout as sleep } from "node:timers/promises";
import { signIn } from "./gateway-calls.js";
import { SAGA_PATHS, type SagaPath } from "./saga-load.js";

/** How often each seed path comes up in the soak: mostly approved orders, some of each rejection. */
export const SOAK_MIX: readonly { readonly path: SagaPath; readonly weight: number }[] = [
  { path: pathNamed("approved"), weight: 7 },
  { path: pathNamed("card declined"), weight: 1 },
  { path: pathNamed("consumer suspended"), weight: 1 },
  { path: pathNamed("restaurant closed"), weight: 1 },
];

/** How long one order is retried (same key) before the load gives up on it. */
const RETRY_FOR_MS = 60_000;
/** Each attempt's own deadline: a request stuck on a frozen backend is abandoned and retried. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Answers worth retrying with the same key: the edge's or a caller's limit, and outages. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** What the load did, so far. */
export interface LoadStats {
  /** Orders the load set out to place: one Idempotency-Key each. */
  readonly attempted: number;
  /** Orders answered 202, by path name. */
  readonly placedByPath: ReadonlyMap<string, number>;
  /** Orders given up on after RETRY_FOR_MS, or refused with a status no retry would change. */
  readonly gaveUp: number;
  /** Orders not even tried because too many were in flight (the mesh is far behind). */
  readonly shed: number;
  /** Failed attempts by kind: "HTTP 503 UNAVAILABLE", "connection refused", "timeout". */
  readonly clientErrors: ReadonlyMap<string, number>;
  /** Each placed order's key → the order id the gateway answered with. */
  readonly placed: ReadonlyMap<string, string>;
}

export interface OrderLoad {
  readonly stats: LoadStats;
  /** Orders whose request has not ended yet. */
  inFlight(): number;
  /** Stops starting orders and waits (up to `graceMs`) for the ones in flight to end. */
  stop(graceMs?: number): Promise<void>;
}

export interface OrderLoadOptions {
  /** The gateway, `http://host:port`. */
  readonly url: string;
  /** Orders started per second (open loop: whether earlier ones have been answered or not). */
  readonly ratePerSecond: number;
  /** Every key starts with this (the soak's run id), so that the audit finds this load's orders. */
  readonly keyPrefix: string;
  /** The most orders in flight at once; above it an order is shed and counted. Default 500. */
  readonly maxInFlight?: number;
}

/** Signs in each consumer of the mix once: tokens by consumer id. */
export async function signInConsumers(url: string): Promise<Map<string, string>> {
  const ids = [...new Set(SOAK_MIX.map(({ path }) => path.consumerId))];
  return new Map(await Promise.all(ids.map(async (id) => [id, await signIn(url, { consumerId: id })] as const)));
}

/**
 * Starts orders at `ratePerSecond`, along the mix in a fixed weighted rotation, until stop(). Open loop: a
 * slow mesh does not slow the customers down, it makes them wait (and retry) longer.
 */
export function startOrderLoad(tokens: ReadonlyMap<string, string>, options: OrderLoadOptions): OrderLoad {
  const { url, ratePerSecond, keyPrefix, maxInFlight = 500 } = options;
  const rotation = SOAK_MIX.flatMap(({ path, weight }) => Array.from({ length: weight }, () => path));
  const stats = newStats();
  const running = new Set<Promise<void>>();
  const stopping = new AbortController();
  const started = performance.now();
  let n = 0;

  const tick = () => {
    // Catch up to where the clock says the load should be: timers drift on a busy machine.
    const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
    for (; n < due && !stopping.signal.aborted; n++) {
      const path = rotation[n % rotation.length] as SagaPath;
      stats.attempted++;
      if (running.size >= maxInFlight) {
        stats.shed++;
        continue;
      }
      const key = `${keyPrefix}-${n}`;
      const token = tokens.get(path.consumerId) as string;
      const order = placeWithRetries(url, token, path, key, stats, stopping.signal).finally(() =>
        running.delete(order),
      );
      running.add(order);
    }
  };
  const timer = setInterval(tick, Math.max(5, Math.min(100, 1000 / ratePerSecond)));
  return {
    stats,
    inFlight: () => running.size,
    async stop(graceMs = RETRY_FOR_MS + ATTEMPT_TIMEOUT_MS) {
      clearInterval(timer);
      const settled = Promise.allSettled([...running]);
      const late = setTimeout(() => stopping.abort(new Error("the load stopped")), graceMs);
      await settled;
      clearTimeout(late);
      stopping.abort(new Error("the load stopped"));
    },
  };
}

/**
 * Closed loop for `durationMs`: `concurrency` customers, each placing its next order as soon as the last
 * one is answered. Resolves with how many the gateway accepted per second.
 */
export async function measureAcceptRate(
  tokens: ReadonlyMap<string, string>,
  {
    url,
    keyPrefix,
    durationMs,
    concurrency = 16,
  }: { url: string; keyPrefix: string; durationMs: number; concurrency?: number },
): Promise<{ ratePerSecond: number; stats: LoadStats }> {
  const stats = newStats();
  const rotation = SOAK_MIX.flatMap(({ path, weight }) => Array.from({ length: weight }, () => path));
  const until = performance.now() + durationMs;
  let n = 0;
  const customer = async () => {
    while (performance.now() < until) {
      const i = n++;
      const path = rotation[i % rotation.length] as SagaPath;
      stats.attempted++;
      await placeWithRetries(url, tokens.get(path.consumerId) as string, path, `${keyPrefix}-${i}`, stats);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, customer));
  return { ratePerSecond: (stats.placed.size * 1000) / (performance.now() - started), stats };
}

type MutableStats = {
  -readonly [K in keyof LoadStats]: LoadStats[K] extends ReadonlyMap<infer A, infer B> ? Map<A, B> : LoadStats[K];
};

function newStats(): MutableStats {
  return {
    attempted: 0,
    placedByPath: new Map(),
    gaveUp: 0,
    shed: 0,
    clientErrors: new Map(),
    placed: new Map(),
  };
}

/** One order: POSTed until answered 202, retried with the same key on what a retry may change. */
async function placeWithRetries(
  url: string,
  token: string,
  path: SagaPath,
  key: string,
  stats: MutableStats,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + RETRY_FOR_MS;
  const count = (kind: string) => stats.clientErrors.set(kind, (stats.clientErrors.get(kind) ?? 0) + 1);
  let pause = 100;
  for (;;) {
    const outcome = await postOrder(url, token, path, key);
    if ("orderId" in outcome) {
      stats.placed.set(key, outcome.orderId);
      stats.placedByPath.set(path.name, (stats.placedByPath.get(path.name) ?? 0) + 1);
      return;
    }
    count(outcome.error);
    if (!outcome.retry || Date.now() >= deadline || signal?.aborted) {
      stats.gaveUp++;
      return;
    }
    await sleep(pause); // back off, not a synchronisation
    pause = Math.min(2_000, pause * 2);
  }
}

type Outcome = { orderId: string } | { error: string; retry: boolean };

async function postOrder(url: string, token: string, path: SagaPath, key: string): Promise<Outcome> {
  try {
    const response = await fetch(`${url}/api/v2/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify(orderBody(path.restaurantId)),
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => null)) as {
      orderId?: string;
      error?: { code?: string };
    } | null;
    if (response.status === 202 && body?.orderId) return { orderId: body.orderId };
    return {
      error: `HTTP ${response.status} ${body?.error?.code ?? ""}`.trim(),
      retry: RETRYABLE.has(response.status),
    };
  } catch (err) {
    return { error: describeFetchError(err), retry: true };
  }
}

/** The seed order of README's walkthrough, in v2's shape: where and when to deliver it included. */
function orderBody(restaurantId: string) {
  const lineItems =
    restaurantId === "r-2"
      ? [{ menuItemId: "m-10", quantity: 1 }]
      : [
          { menuItemId: "m-1", quantity: 2 },
          { menuItemId: "m-3", quantity: 1 },
        ];
  return {
    restaurantId,
    lineItems,
    delivery: {
      address: { street1: "1 Main St", city: "Oakland", postalCode: "94611" },
      deliverAt: "2030-01-01T18:30:00Z",
    },
  };
}

/** "timeout", "connection refused", "connection reset", or the cause's code. */
function describeFetchError(err: unknown): string {
  const error = err as Error & { cause?: { code?: string } };
  if (error.name === "TimeoutError") return "timeout";
  const code = error.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  return code ?? error.message;
}

function pathNamed(name: string): SagaPath {
  const path = SAGA_PATHS.find((p) => p.name === name);
  if (!path) throw new Error(`no seed path ${name}`);
  return path;
}
