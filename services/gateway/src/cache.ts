// Caching at the edge: a menu changes rarely and an order's details only when its saga moves, so both are
// served from memory for a while. A TTL alone would show a settled order as pending for up to that long;
// instead the gateway listens to the domain events every service already publishes and drops an order's
// entry the moment one of them names it (Ftgo-Correlation-Id = the order id). The TTL remains the bound
// for what no event announces (a menu change) and for events missed while NATS was away. The cache is bounded
// in entries (least recently used out first) and an entry leaves when it expires, read again or not: a
// client asking for many distinct menus or orders cannot make the gateway's memory grow without end.
import { createHash } from "node:crypto";
import { cacheLookups, type Logger, MessageHeader } from "@ftgo/platform";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import { ORDER_API_VERSIONS, type OrderApiVersion } from "./order-api.js";

/** A cached answer; boxed, as LRUCache holds objects and an answer may be any value. */
interface CacheEntry {
  readonly value: unknown;
}

/** What a load produced, and whether it may be kept: a partial answer (a leg unavailable) may not. */
export interface Loaded<T> {
  readonly value: T;
  readonly cacheable: boolean;
}

export interface ResponseCache {
  /** The cached entry for `key`, or what `load` returns (kept for `ttlMs` when cacheable), and whether it was a hit. */
  get<T>(key: string, ttlMs: number, load: () => Promise<Loaded<T>>): Promise<{ value: T; hit: boolean }>;
  /** Drops `key`, and makes any load of it still in flight not keep its (now stale) answer. */
  invalidate(key: string): void;
  readonly size: number;
}

export const menuKey = (restaurantId: string) => `menu:${restaurantId}`;
/** An order's composed details, per version of the orders API: each shows the order in its own form. */
export const orderKey = (orderId: string, version: OrderApiVersion) => `order:${version}:${orderId}`;

export interface ResponseCacheOptions {
  /** The most entries kept; the least recently used leaves first (CACHE_MAX_ENTRIES). */
  readonly maxEntries: number;
  /** The clock entries expire by (ms); tests move it by hand. */
  readonly now?: () => number;
}

export function createResponseCache({ maxEntries, now }: ResponseCacheOptions): ResponseCache {
  // ttlAutopurge: an expired entry is dropped by a timer (unref'd) at its expiry, not when next read, so
  // entries nobody asks for again do not stay until the bound pushes them out.
  const entries = new LRUCache<string, CacheEntry>({
    max: maxEntries,
    ttlAutopurge: true,
    ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
  });
  /** Loads in flight per key; an invalidation marks them stale, so an answer read before the event is not kept. */
  const loading = new Map<string, Set<{ stale: boolean }>>();

  return {
    get size() {
      return entries.size;
    },
    async get<T>(key: string, ttlMs: number, load: () => Promise<Loaded<T>>) {
      const cached = entries.get(key);
      if (cached) return { value: cached.value as T, hit: true };
      const ticket = { stale: false };
      const tickets = loading.get(key) ?? new Set();
      loading.set(key, tickets.add(ticket));
      try {
        const { value, cacheable } = await load();
        if (cacheable && !ticket.stale && ttlMs > 0) entries.set(key, { value }, { ttl: ttlMs });
        return { value, hit: false };
      } finally {
        tickets.delete(ticket);
        if (tickets.size === 0) loading.delete(key);
      }
    },
    invalidate(key) {
      entries.delete(key);
      for (const ticket of loading.get(key) ?? []) ticket.stale = true;
    },
  };
}

/** What sendCached needs of a request: a RouteContext is one (the cache stays below the routes that use it). */
export interface CachedRequest {
  readonly deps: { readonly cache: ResponseCache };
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

/**
 * Answers a GET from the cache: `X-Cache: hit|miss`, `Cache-Control`, an `ETag` of the body, and 304 with no
 * body when the client already holds that representation (`If-None-Match`). With `ttlMs` 0 the cache is off:
 * `X-Cache: miss`, `Cache-Control: no-store`, no ETag and never a 304. `present` turns the cached value
 * into this caller's body, and may refuse (another consumer's order) before anything is sent.
 */
export async function sendCached<T>(
  { deps, reply, request }: CachedRequest,
  key: string,
  ttlMs: number,
  cacheControl: string,
  load: () => Promise<Loaded<T>>,
  present: (value: T) => unknown = (value) => value,
): Promise<unknown> {
  const { value, hit } = await deps.cache.get(key, ttlMs, load);
  cacheLookups.inc({ result: hit ? "hit" : "miss" });
  // Serialized once: the ETag is a hash of exactly the bytes sent, and fastify does not encode them again.
  const json = JSON.stringify(present(value));
  if (ttlMs <= 0) {
    // Nothing is cached, so there is nothing to revalidate against: no hash of the body on every request,
    // no ETag, and an If-None-Match is answered with the body like any other request.
    reply.headers({ "x-cache": "miss", "cache-control": "no-store" });
    return reply.type("application/json; charset=utf-8").send(json);
  }
  const etag = `"${createHash("sha256").update(json).digest("base64url").slice(0, 27)}"`;
  reply.headers({ "x-cache": hit ? "hit" : "miss", "cache-control": cacheControl, etag });
  const ifNoneMatch = request.headers["if-none-match"];
  if (ifNoneMatch?.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
    return reply.status(304).send();
  }
  return reply.type("application/json; charset=utf-8").send(json);
}

/** The event streams whose messages change what an order's details show. */
export const INVALIDATING_SUBJECTS = [
  "ftgo.order.event.>",
  "ftgo.kitchen.event.>",
  "ftgo.accounting.event.>",
  "ftgo.delivery.event.>",
  "ftgo.loyalty.event.>",
];

/**
 * Drops an order's cached details whenever a domain event of that order is published. Core NATS, not a
 * JetStream consumer: the cache lives and dies with this process, so there is nothing to resume and no
 * event worth redelivering; a missed one costs at most one TTL of staleness.
 */
export function invalidateOnEvents(nc: NatsConnection, cache: ResponseCache, log: Logger): { stop(): void } {
  const subscriptions: Subscription[] = INVALIDATING_SUBJECTS.map((subject) =>
    nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) return log.warn({ err: error, subject }, "cache invalidation subscription failed");
        const orderId = msg.headers?.get(MessageHeader.CorrelationId);
        if (orderId) for (const version of ORDER_API_VERSIONS) cache.invalidate(orderKey(orderId, version));
      },
    }),
  );
  return {
    stop() {
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}
