import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  type BaseConfig,
  type Env,
  type EnvReader,
  GO_SERVICES,
  type GoServiceName,
  loadConfig,
  loadPolicyConfig,
  type PolicyConfig,
  SERVICE_NAMES,
  type ServiceName,
} from "@ftgo/platform";

/**
 * The services behind the gateway, by their names in the service registry: every service of the roster. The
 * saga's five are required (the gateway is not ready without them); the Go services are optional: without
 * one, only its leg of a composed view is missing.
 */
export const BACKENDS: readonly Backend[] = [...SERVICE_NAMES, ...GO_SERVICES.map((service) => service.name)];
export type Backend = ServiceName | GoServiceName;
/** The backends /readyz requires to be SERVING. */
export const REQUIRED_BACKENDS: ReadonlySet<Backend> = new Set(SERVICE_NAMES);

export interface GatewayConfig extends BaseConfig {
  /** How the gateway calls each backend: deadline, bulkhead, breaker, retry (ORDER_TIMEOUT_MS, …). */
  readonly policies: PolicyConfig<Backend>;
  readonly auth: AuthConfig;
  /** Each signed-in caller's bucket (an anonymous one's is its address's): RATE_LIMIT_RPS, RATE_LIMIT_BURST. */
  readonly rateLimit: RateLimitConfig;
  /**
   * Each client address's bucket, taken before anything else is done with a request, on every route, /rpc, the
   * dashboard, unknown routes and refused tokens included (EDGE_RATE_LIMIT_RPS, default 200; EDGE_RATE_LIMIT_BURST,
   * default 400): a flood of bad tokens or unknown paths costs the gateway a bucket lookup, not a verification.
   * Looser than the per-caller limit, as one address may carry many callers.
   */
  readonly edgeRateLimit: RateLimitConfig;
  /** TTLs of the cached routes, by name (a route's `cache.ttl` names one). */
  readonly cache: CacheConfig;
  /** The most entries the response cache keeps, least recently used out first (CACHE_MAX_ENTRIES, default 10000). */
  readonly cacheMaxEntries: number;
  /** Deadline of each leg of a composed view (COMPOSE_LEG_TIMEOUT_MS, default 1000). */
  readonly legTimeoutMs: number;
  /**
   * Largest request body accepted, in bytes (BODY_LIMIT_BYTES, default 65536): above the largest order the
   * contracts allow, a v2 CreateOrder of 50 lines with 200-character instructions in UTF-8 (about 45 KB),
   * so that the gateway never refuses for its size a body the OpenAPI document calls valid.
   */
  readonly bodyLimitBytes: number;
  /** How long a client has to send a request, before and after its headers (slowloris defences). */
  readonly timeouts: TimeoutsConfig;
  /** Longest a Server-Sent Events stream stays open (SSE_MAX_MS, default 15 minutes). */
  readonly sseMaxMs: number;
  /** Server-Sent Events streams one caller may hold open at once (SSE_MAX_PER_CALLER, default 16); the next is 429. */
  readonly sseMaxPerCaller: number;
  /** The deprecated APIs' schedules, announced on each of their answers (deprecation.ts). */
  readonly deprecations: DeprecationsConfig;
  /**
   * Jaeger's query API (JAEGER_QUERY_URL, `http://127.0.0.1:16686`; `make up` sets it when it starts Jaeger), where
   * the dashboard reads an order's trace; empty: the dashboard shows none.
   */
  readonly jaegerQueryUrl: string;
}

export interface DeprecationsConfig {
  /** /api/v1/orders…, succeeded by /api/v2/orders…. */
  readonly ordersV1: DeprecationConfig;
}

/**
 * When a deprecated API was deprecated and when it goes away, as its answers say (Deprecation, RFC 9745;
 * Sunset, RFC 8594). The dates are the operator's promise to the API's clients, so they are settings, not code.
 */
export interface DeprecationConfig {
  /** Since when it is deprecated: when its successor shipped (ORDERS_V1_DEPRECATED_AT, ISO 8601). */
  readonly deprecatedAt: Date;
  /** When it stops answering, after deprecatedAt (ORDERS_V1_SUNSET_AT, ISO 8601). */
  readonly sunsetAt: Date;
  /** A page about the deprecation and the way off it, linked as rel="deprecation" (ORDERS_V1_DEPRECATION_URL). */
  readonly infoUrl: string;
}

/** v2 of the orders API shipped on 5 December 2026: v1 is deprecated since then. */
export const ORDERS_V1_DEPRECATED_AT = "2026-12-05T00:00:00Z";
/** Six months for v1's clients to move to v2. */
export const ORDERS_V1_SUNSET_AT = "2027-06-05T00:00:00Z";

export interface AuthConfig {
  /** `iss` of the tokens it issues and accepts (JWT_ISSUER). */
  readonly issuer: string;
  /** `aud` of the tokens it issues and accepts (JWT_AUDIENCE). */
  readonly audience: string;
  /** Lifetime of an issued token (JWT_TTL_SECONDS, default 3600). */
  readonly ttlSeconds: number;
  /**
   * The current Ed25519 private key, PKCS#8 PEM, which signs every token: inline (JWT_PRIVATE_KEY) or read from a
   * file (JWT_PRIVATE_KEY_FILE), not both. Without either a key pair is generated at start: tokens then outlive
   * neither the process nor reach another gateway instance.
   */
  readonly privateKeyPem: string;
  /**
   * Public keys of earlier signing keys, SPKI PEM blocks one after the other in one file
   * (JWT_PREVIOUS_PUBLIC_KEYS_FILE; default none): tokens they signed still verify until they expire, so that a
   * key rotation signs nobody out. Drop a key from the file once JWT_TTL_SECONDS have passed since the rotation.
   */
  readonly previousPublicKeysPem: readonly string[];
  /**
   * POST /api/v1/auth/token signs anyone in, for development (DEV_SIGN_IN=1; default 0, off): a gateway signs
   * nobody in unless asked to. `make up`, docker compose and the test harness turn it on.
   */
  readonly devSignIn: boolean;
}

export interface RateLimitConfig {
  /** Tokens added to each caller's bucket per second (RATE_LIMIT_RPS, default 20). */
  readonly ratePerSecond: number;
  /** Bucket size: the largest burst a caller may send at once (RATE_LIMIT_BURST, default 40). */
  readonly burst: number;
}

/**
 * The HTTP server's clocks. A client that opens connections and trickles its headers, or its body, a byte at a
 * time (slowloris) holds each connection only until one of these runs out; then it gets 408 and is closed.
 */
export interface TimeoutsConfig {
  /** The request line and headers must all arrive within this (HEADERS_TIMEOUT_MS, default 10000). */
  readonly headersMs: number;
  /** The whole request, body included, must arrive within this (REQUEST_TIMEOUT_MS, default 30000). */
  readonly requestMs: number;
  /**
   * An idle keep-alive connection is closed after this (KEEP_ALIVE_TIMEOUT_MS, default 72000: longer than a
   * load balancer's usual 60 s, so that the balancer, not the gateway, closes a connection it may be reusing).
   */
  readonly keepAliveMs: number;
  /**
   * A connection with no traffic either way is closed after this (CONNECTION_TIMEOUT_MS, default 0: off). Off by
   * default because an event stream may be quiet for minutes; the two timeouts above bound a slow client.
   */
  readonly connectionMs: number;
}

export interface CacheConfig {
  /** How long a menu is served from the cache (MENU_CACHE_TTL_MS, default 60000). */
  readonly menuTtlMs: number;
  /** How long composed order details are, unless an event of the order drops them first (ORDER_CACHE_TTL_MS). */
  readonly orderTtlMs: number;
}

/** The gateway's configuration: PORT (or GATEWAY_PORT), default 8080, and the edge's own settings. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const withPort = env.GATEWAY_PORT ? { ...env, PORT: env.GATEWAY_PORT } : env;
  return loadConfig(withPort, { service: "gateway", port: 8080 }, (read) => ({
    policies: loadPolicyConfig(read, BACKENDS),
    auth: {
      issuer: read.string("JWT_ISSUER", "ftgo-gateway"),
      audience: read.string("JWT_AUDIENCE", "ftgo-api"),
      ttlSeconds: read.int("JWT_TTL_SECONDS", 3600, 1),
      ...loadSigningKeys(read),
      devSignIn: read.oneOf("DEV_SIGN_IN", ["0", "1"], "0") === "1",
    },
    rateLimit: {
      ratePerSecond: read.int("RATE_LIMIT_RPS", 20, 1),
      burst: read.int("RATE_LIMIT_BURST", 40, 1),
    },
    edgeRateLimit: {
      ratePerSecond: read.int("EDGE_RATE_LIMIT_RPS", 200, 1),
      burst: read.int("EDGE_RATE_LIMIT_BURST", 400, 1),
    },
    cache: {
      menuTtlMs: read.int("MENU_CACHE_TTL_MS", 60_000, 0),
      orderTtlMs: read.int("ORDER_CACHE_TTL_MS", 30_000, 0),
    },
    cacheMaxEntries: read.int("CACHE_MAX_ENTRIES", 10_000, 1),
    legTimeoutMs: read.int("COMPOSE_LEG_TIMEOUT_MS", 1_000, 1),
    bodyLimitBytes: read.int("BODY_LIMIT_BYTES", 65_536, 1),
    timeouts: loadTimeouts(read),
    sseMaxMs: read.int("SSE_MAX_MS", 15 * 60_000, 1),
    sseMaxPerCaller: read.int("SSE_MAX_PER_CALLER", 16, 1),
    deprecations: {
      ordersV1: loadDeprecation(read, "ORDERS_V1", ORDERS_V1_DEPRECATED_AT, ORDERS_V1_SUNSET_AT),
    },
    jaegerQueryUrl: read.string("JAEGER_QUERY_URL", "").replace(/\/+$/, ""),
  }));
}

/**
 * The signing key and the earlier keys still trusted, read and checked at start, so that a missing file or a key
 * that is not Ed25519 is reported with every other problem rather than at the first sign-in.
 */
function loadSigningKeys(read: EnvReader): Pick<AuthConfig, "privateKeyPem" | "previousPublicKeysPem"> {
  const inline = read.string("JWT_PRIVATE_KEY", "");
  const privateKeyFile = read.string("JWT_PRIVATE_KEY_FILE", "");
  if (inline !== "" && privateKeyFile !== "") read.problem("set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE, not both");
  const privateKeyPem = inline || readKeyFile(read, "JWT_PRIVATE_KEY_FILE", privateKeyFile);
  // The key itself is never quoted in a problem: start-up errors are logged.
  if (privateKeyPem !== "" && !isEd25519(() => createPrivateKey(privateKeyPem))) {
    read.problem(`${inline ? "JWT_PRIVATE_KEY" : "JWT_PRIVATE_KEY_FILE"} is not an Ed25519 private key in PKCS#8 PEM`);
  }
  const previousFile = read.string("JWT_PREVIOUS_PUBLIC_KEYS_FILE", "");
  const previousPublicKeysPem = readKeyFile(read, "JWT_PREVIOUS_PUBLIC_KEYS_FILE", previousFile).match(PEM_BLOCK) ?? [];
  if (previousFile !== "" && previousPublicKeysPem.length === 0) {
    read.problem("JWT_PREVIOUS_PUBLIC_KEYS_FILE holds no PEM block");
  }
  previousPublicKeysPem.forEach((pem, index) => {
    if (!isEd25519(() => createPublicKey(pem))) {
      read.problem(`JWT_PREVIOUS_PUBLIC_KEYS_FILE: key ${index + 1} is not an Ed25519 public key in SPKI PEM`);
    }
  });
  return { privateKeyPem, previousPublicKeysPem };
}

const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g;

function readKeyFile(read: EnvReader, name: string, path: string): string {
  if (path === "") return "";
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    read.problem(
      `${name}=${JSON.stringify(path)} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
    return "";
  }
}

function isEd25519(parse: () => KeyObject): boolean {
  try {
    return parse().asymmetricKeyType === "ed25519";
  } catch {
    return false;
  }
}

function loadTimeouts(read: EnvReader): TimeoutsConfig {
  const timeouts = {
    headersMs: read.int("HEADERS_TIMEOUT_MS", 10_000, 1),
    requestMs: read.int("REQUEST_TIMEOUT_MS", 30_000, 1),
    keepAliveMs: read.int("KEEP_ALIVE_TIMEOUT_MS", 72_000, 1),
    connectionMs: read.int("CONNECTION_TIMEOUT_MS", 0, 0),
  };
  // The headers are part of the request: their deadline cannot be the later one.
  if (timeouts.headersMs > timeouts.requestMs) read.problem("HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS");
  return timeouts;
}

/** An ISO 8601 date, with a time and zone or without (midnight UTC): what a person writes in a setting. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function loadDeprecation(read: EnvReader, prefix: string, deprecatedAt: string, sunsetAt: string): DeprecationConfig {
  const date = (name: string, fallback: string) => {
    const value = read.string(name, fallback);
    if (ISO_8601.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value);
    read.problem(`${name}=${JSON.stringify(value)} is not an ISO 8601 date, e.g. 2027-06-05 or 2027-06-05T12:00:00Z`);
    return new Date(fallback);
  };
  const config = {
    deprecatedAt: date(`${prefix}_DEPRECATED_AT`, deprecatedAt),
    sunsetAt: date(`${prefix}_SUNSET_AT`, sunsetAt),
    infoUrl: read.string(`${prefix}_DEPRECATION_URL`, ""),
  };
  // RFC 9745: a resource should not go away before it was announced as deprecated.
  if (config.sunsetAt <= config.deprecatedAt) {
    read.problem(`${prefix}_SUNSET_AT must be later than ${prefix}_DEPRECATED_AT`);
  }
  if (config.infoUrl !== "" && !URL.canParse(config.infoUrl)) {
    read.problem(`${prefix}_DEPRECATION_URL=${JSON.stringify(config.infoUrl)} is not an absolute URL`);
  }
  return config;
}
