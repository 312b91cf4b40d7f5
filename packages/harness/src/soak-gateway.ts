// The gateway as `make up` runs it — its own OS process, from its bundle — in front of a process mesh, for
// the soak (soak-run.ts): the load and the flood reach it over real sockets, and it competes for the CPU
// as it would in production, not inside the load generator's event loop.
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@ftgo/platform/testing";
import { isTracked } from "./child-processes.js";
import { builtMain, builtServices } from "./service-build.js";
import { freePort } from "./service-instance.js";
import { describeExit, startServiceProcess } from "./service-process.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const HOST = "127.0.0.1";
/** Only these reach the gateway from this process's environment, as with the services (service-instance.ts). */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"] as const;
const TAIL_LINES = 100;

export interface GatewayProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number | undefined;
  /** Exits nobody asked for, described ("exited with code 1"). */
  readonly crashes: readonly string[];
  /** Its last lines of output. */
  output(): string;
  /** SIGTERM, then waits for its graceful shutdown (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * Starts the gateway's bundle on a free port with NATS_URL, DEV_SIGN_IN=1 and `env` (the limits, say), and
 * resolves once its /readyz answers 200: every required service is discoverable and SERVING. A start that
 * fails stops the process before it rethrows, with the gateway's output in the message.
 */
export async function startGatewayProcess(
  natsUrl: string,
  env: Readonly<Record<string, string>> = {},
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): Promise<GatewayProcess> {
  await builtServices();
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const tail: string[] = [];
  const crashes: string[] = [];
  let stopping = false;
  const child = startServiceProcess({
    name: "gateway",
    command: process.execPath,
    args: [relative(ROOT, builtMain("gateway"))],
    cwd: ROOT,
    env: {
      ...Object.fromEntries(INHERITED_ENV.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : []))),
      FTGO_HOST: HOST,
      PORT: String(port),
      NATS_URL: natsUrl,
      LOG_LEVEL: "warn",
      OTEL_SDK_DISABLED: "true",
      DEV_SIGN_IN: "1",
      ...env,
    },
    onLine: (line) => {
      if (tail.push(line) > TAIL_LINES) tail.shift();
    },
  });
  void child.exited.then((status) => {
    if (!stopping) crashes.push(describeExit(status));
  });
  const stop = async () => {
    stopping = true;
    if (child.pid !== undefined && isTracked(child.pid)) await child.stop();
  };
  const exitedEarly = child.exited.then((status) => {
    throw new Error(`the gateway ${describeExit(status)} before it was ready`);
  });
  exitedEarly.catch(() => {}); // raced below; after start-up an exit is a crash, recorded above
  try {
    await Promise.race([
      waitFor(
        async () => {
          const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
          return response?.ok === true;
        },
        { timeoutMs, intervalMs: 200, message: () => `the gateway's /readyz to answer 200 at ${url}` },
      ),
      exitedEarly,
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${tail.join("\n")}`, { cause: err });
  }
  return { url, pid: child.pid, crashes, output: () => tail.join("\n"), stop };
}
