// The gateway as its own OS process beside a process mesh, as `make up` runs it (service-instance.ts), so that a
// test can do to it what happens to a real one: SIGKILL it in the middle of requests and start it again on the
// same port. It signs with a key the test gives it, so that a token issued before the kill still verifies after
// the restart, as it does with a configured JWT_PRIVATE_KEY in production; gateway-mesh.ts runs it in-process.
import { generateKeyPairSync } from "node:crypto";
import { waitFor } from "@ftgo/platform/testing";
import { type ServiceInstance, startService } from "./service-instance.js";

/** How long the gateway may take to see every service SERVING after it accepts connections (a busy machine). */
const READY_TIMEOUT_MS = 60_000;

export interface GatewayProcess {
  readonly instance: ServiceInstance;
  /** `http://127.0.0.1:<port>`, the same across restarts. */
  readonly url: string;
  /** SIGKILL by default; resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and key; resolves once /readyz answers 200. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the gateway (its bundle, as `make up` does) on the mesh's NATS, with the development sign-in on and
 * `env` over that, and resolves once /readyz answers 200: every service discoverable and SERVING.
 */
export async function startGatewayBeside(
  mesh: { readonly dataDir: string; readonly nats: { readonly url: string } },
  env: Readonly<Record<string, string>> = {},
): Promise<GatewayProcess> {
  const privateKeyPem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const instance = await startService({
    name: "gateway",
    probe: "tcp",
    dataDir: mesh.dataDir,
    natsUrl: mesh.nats.url,
    env: { JWT_PRIVATE_KEY: privateKeyPem, DEV_SIGN_IN: "1", ...env },
  });
  const url = `http://${instance.address}`;
  const ready = () =>
    waitFor(async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })).ok, {
      timeoutMs: READY_TIMEOUT_MS,
      message: () => `the gateway at ${url} ready\n${instance.output()}`,
    });
  try {
    await ready();
  } catch (err) {
    await instance.stop();
    throw err;
  }
  return {
    instance,
    url,
    kill: (signal) => instance.kill(signal),
    async restart() {
      await instance.restart();
      await ready();
    },
    stop: () => instance.stop(),
  };
}
