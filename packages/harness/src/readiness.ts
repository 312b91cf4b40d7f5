import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { canConnect, WaitTimeoutError } from "@ftgo/platform/testing";
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** How a process shows it is ready: the standard gRPC health service, or (for non-gRPC processes) an open port. */
export type HealthProbe = "grpc" | "tcp";

/** Without a measure of progress: the one budget a start gets. */
const FIXED_TIMEOUT_MS = 30_000;
/** With one: how long a start may go without progress, and the cap however much it progresses. */
export const DEFAULT_STALL_MS = 30_000;
export const PROGRESS_CAP_MS = 180_000;

export interface WaitUntilReadyOptions {
  readonly probe?: HealthProbe;
  /**
   * Give up after this long. Default 30 s; with `progress`, the cap on a start that keeps progressing
   * (default 180 s: ten services transpiling TypeScript on two cores shared with another heavy job).
   */
  readonly timeoutMs?: number;
  /**
   * A number that grows while the process being waited for works: `progressOf(pid, () => lines)`. Given,
   * the wait lasts as long as it grows, and fails once it has not grown for `stallMs`, so that a start
   * slowed by a busy machine is waited for and one that hangs is not.
   */
  readonly progress?: () => number;
  /** With `progress`: how long it may stand still. Default 30 s. */
  readonly stallMs?: number;
  readonly signal?: AbortSignal;
  /**
   * The secure mode (SECURE=1): the probe's certificate, its key and the mesh CA (PEM), for a server that asks
   * its callers for a certificate. Without them the probe speaks plaintext.
   */
  readonly tls?: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer };
}

/**
 * Resolves once the server at `address` ("host:port") is ready: for "grpc", when
 * `grpc.health.v1.Health/Check` for the whole server ("") answers SERVING. Rejects, saying what it
 * last heard, when that does not happen in time: within `timeoutMs`, or, given `progress`, before the
 * process stalls or reaches the cap.
 */
export async function waitUntilReady(address: string, options: WaitUntilReadyOptions = {}): Promise<void> {
  const { probe = "grpc", progress, signal } = options;
  const budget = {
    capMs: options.timeoutMs ?? (progress ? PROGRESS_CAP_MS : FIXED_TIMEOUT_MS),
    stallMs: progress ? (options.stallMs ?? DEFAULT_STALL_MS) : Number.POSITIVE_INFINITY,
    progress: progress ?? (() => 0),
    signal,
  };
  if (probe === "tcp") {
    const { host, port } = splitAddress(address);
    await pollWhileProgressing(
      () => canConnect(host, port),
      budget,
      () => `${address} accepting connections`,
    );
    return;
  }
  // grpc-js dials only once something listens (canConnect): a dial to a port in the ephemeral range that nobody
  // listens on yet can connect to itself and keep the port from the server about to bind it. Then reconnect
  // quickly: grpc-js backs off up to minutes by default, far longer than a service takes to start, and the time
  // to SERVING that `make up` reports is only as fine as these retries.
  const { tls } = options;
  const { host, port } = splitAddress(address);
  const channelCredentials = tls ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createInsecure();
  let client: Client | undefined;
  let heard = "";
  try {
    await pollWhileProgressing(
      async () => {
        if (!client) {
          if (!(await canConnect(host, port))) return false;
          client = new Client(address, channelCredentials, {
            "grpc.initial_reconnect_backoff_ms": FIRST_POLL_MS,
            "grpc.max_reconnect_backoff_ms": POLL_MS,
          });
        }
        heard = await checkHealth(client);
        return heard === "SERVING";
      },
      budget,
      () => `${address} answering SERVING to Health/Check${heard ? ` (last answer: ${heard})` : ""}`,
    );
  } finally {
    client?.close();
  }
}

interface Budget {
  readonly capMs: number;
  readonly stallMs: number;
  readonly progress: () => number;
  readonly signal: AbortSignal | undefined;
}

/**
 * The first retry comes this soon, the later ones up to POLL_MS apart. A start of a few hundred ms is thus timed
 * to ~50 ms: 200 ms apart, the time to SERVING that `make up` and the startup benchmark report was up to 200 ms
 * later than the service's, more than a third of a start. A probe that finds nothing costs a refused connection
 * or a NOT_SERVING answer: twenty a second is nothing to a process that is starting.
 */
const FIRST_POLL_MS = 25;
const POLL_MS = 50;

/**
 * Calls `ready` until it is true: every 25 ms at first, then every 50 ms. A plain poll (not vitest's): `make up` and the benchmarks
 * wait with it too. Fails when the cap passes, or when `progress` has stood still for the stall time.
 */
async function pollWhileProgressing(ready: () => Promise<boolean>, budget: Budget, what: () => string) {
  const started = Date.now();
  let mark = budget.progress();
  let movedAt = started;
  let lastError: unknown;
  let pause = FIRST_POLL_MS;
  for (;;) {
    budget.signal?.throwIfAborted();
    try {
      if (await ready()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const now = Date.now();
    const reading = budget.progress();
    if (reading > mark) [mark, movedAt] = [reading, now];
    const why =
      now - started >= budget.capMs
        ? `not within ${budget.capMs} ms`
        : now - movedAt >= budget.stallMs
          ? `no progress for ${budget.stallMs} ms (${now - started} ms after it started)`
          : undefined;
    if (why) {
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new WaitTimeoutError(`${what()}: ${why}${last}`, { cause: lastError });
    }
    // Aborted, it rejects with the signal's reason, as the check at the top of the loop would.
    await sleep(pause, undefined, { signal: budget.signal }).catch(() => budget.signal?.throwIfAborted());
    pause = Math.min(POLL_MS, pause * 2);
  }
}

/** The standard health service's Check method: its path and (de)serialisers, as grpc-health-check loads them. */
const CHECK = healthService.Check;

/** One `Health/Check` call with a 1 s deadline: the status name ("SERVING", "NOT_SERVING", …). */
export function checkHealth(client: Client, service = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      CHECK.path,
      CHECK.requestSerialize,
      CHECK.responseDeserialize,
      { service },
      { deadline: Date.now() + 1_000 },
      (err: ServiceError | null, response?: object) =>
        err ? reject(err) : resolve(String((response as { status?: unknown } | undefined)?.status)),
    );
  });
}

/**
 * True when a NATS server answers at `url`: it greets every new connection with an `INFO {…}` line,
 * which tells it apart from anything else that merely accepts TCP connections on that port.
 */
export function natsAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 4222) });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("data", (greeting) => done(greeting.toString("latin1").startsWith("INFO ")));
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) };
}
