import { connect } from "node:net";
import { canConnect, waitFor } from "@ftgo/platform/testing";
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** How a process shows it is ready: the standard gRPC health service, or (for non-gRPC processes) an open port. */
export type HealthProbe = "grpc" | "tcp";

export interface WaitUntilReadyOptions {
  readonly probe?: HealthProbe;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Resolves once the server at `address` ("host:port") is ready: for "grpc", when
 * `grpc.health.v1.Health/Check` for the whole server ("") answers SERVING. Rejects, saying what it
 * last heard, when that does not happen within the timeout.
 */
export async function waitUntilReady(address: string, options: WaitUntilReadyOptions = {}): Promise<void> {
  const { probe = "grpc", timeoutMs = 30_000, signal } = options;
  if (probe === "tcp") {
    const { host, port } = splitAddress(address);
    await waitFor(() => canConnect(host, port), {
      timeoutMs,
      intervalMs: 200,
      signal,
      message: `${address} accepting connections`,
    });
    return;
  }
  // Reconnect quickly: grpc-js backs off up to minutes by default, far longer than a service takes to start.
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 500,
  });
  let heard = "";
  try {
    await waitFor(
      async () => {
        heard = await checkHealth(client);
        return heard === "SERVING";
      },
      {
        timeoutMs,
        intervalMs: 200,
        signal,
        message: () => `${address} answering SERVING to Health/Check${heard ? ` (last answer: ${heard})` : ""}`,
      },
    );
  } finally {
    client.close();
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
