import { fileURLToPath } from "node:url";
import { createRegistry, type Registry, type ServiceInstance, silentLogger } from "@ftgo/platform";
import { NatsServerNotFoundError, startNatsServer } from "@ftgo/platform/testing";
import { connect } from "@nats-io/transport-node";
import { type ServerChild, startServerChild } from "../../lib/child.js";
import { type CleanupStack, cleanupStack } from "../../lib/cleanups.js";
import { HOST } from "../unary/contenders.js";
import { TARGET } from "./clients.js";

/*
 * What the mesh suite calls: two GetMenu servers, each the unary suite's (a) — platform `serveGrpc`
 * in a child process of its own — and the registries that list them. The static registry lists the
 * first server alone; the NATS KV registry, on a nats-server of its own, lists both. The servers know
 * nothing of NATS, so the suite registers them on their behalf: the entries, and their heartbeats,
 * are the ones self-registration would write.
 */

const SERVER_SCRIPT = fileURLToPath(new URL("../../server.ts", import.meta.url));

/** Entries live 10 s past their last heartbeat, as a service's REGISTRY_TTL_MS default has it. */
const REGISTRY_TTL_MS = 10_000;
const HEARTBEAT_MS = Math.floor(REGISTRY_TTL_MS / 3);

export interface KitchenFleet {
  /** "host:port" of the first server: the baseline's, the static registry's, the rejection phases'. */
  readonly address: string;
  /** Discovery without a registry server: the first server alone. */
  readonly staticRegistry: Registry;
  /** NATS KV listing both servers; undefined when no nats-server is installed (that row is skipped). */
  readonly natsRegistry: Registry | undefined;
  /** Stops whatever was started, last first, even after a failure; the first error is thrown at the end. */
  close(): Promise<void>;
}

export async function startKitchenFleet(progress: (line: string) => void): Promise<KitchenFleet> {
  const cleanups = cleanupStack();
  const close = cleanups.close;
  try {
    const servers = await startServers(2, cleanups);
    const [first, second] = servers.map((server, i) => instanceOf(server, i)) as [ServiceInstance, ServiceInstance];
    const staticRegistry = await createRegistry(
      { registry: "static", staticInstances: [first], ttlMs: REGISTRY_TTL_MS, heartbeatMs: HEARTBEAT_MS },
      { log: silentLogger() },
    );
    cleanups.push(() => staticRegistry.close());
    const natsRegistry = await startNatsRegistry([first, second], cleanups, progress);
    return { address: `${first.address}:${first.port}`, staticRegistry, natsRegistry, close };
  } catch (err) {
    await close().catch(() => {}); // the start-up error says more than a teardown one
    throw err;
  }
}

/**
 * `count` GetMenu server children (the unary suite's (a)), started side by side (each is a Node process
 * booting tsx); each one's stop is pushed on `cleanups` as soon as it has started, even if another fails.
 */
export async function startServers(count: number, cleanups: Pick<CleanupStack, "push">): Promise<ServerChild[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startServerChild(SERVER_SCRIPT, ["platform"])),
  );
  for (const outcome of started) if (outcome.status === "fulfilled") cleanups.push(outcome.value.stop);
  const failed = started.find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
  return started.map((outcome) => (outcome as PromiseFulfilledResult<ServerChild>).value);
}

function instanceOf(server: ServerChild, index: number): ServiceInstance {
  const id = `${TARGET}-${String.fromCharCode(97 + index)}`; // kitchen-a, kitchen-b
  return { service: TARGET, id, address: HOST, port: server.port, version: "bench", tags: [] };
}

async function startNatsRegistry(
  instances: readonly ServiceInstance[],
  cleanups: Pick<CleanupStack, "push">,
  progress: (line: string) => void,
): Promise<Registry | undefined> {
  let nats: Awaited<ReturnType<typeof startNatsServer>>;
  try {
    nats = await startNatsServer();
  } catch (err) {
    if (!(err instanceof NatsServerNotFoundError)) throw err;
    progress(`mesh: no nats-server, so no NATS KV row (${err.message.split("\n")[0]})`);
    return undefined;
  }
  cleanups.push(() => nats.stop());
  const nc = await connect({ servers: nats.url });
  cleanups.push(() => nc.close());
  const registry = await createRegistry(
    { registry: "nats-kv", ttlMs: REGISTRY_TTL_MS, heartbeatMs: HEARTBEAT_MS },
    { nc, log: silentLogger() },
  );
  cleanups.push(() => registry.close());
  for (const instance of instances) await registry.register(instance);
  return registry;
}
