// Using service discovery: self-registration. A service instance enters itself in the service registry
// when it starts, and takes itself out first thing when it stops. Nobody else knows where it runs (a port
// picked at start, a host given by its deployment), so nobody else can register it; and a caller
// discovering it in the registry must find it able to serve. Hence the order both ways:
//
//   start  serve gRPC (health NOT_SERVING) → register → health SERVING
//   stop   health NOT_SERVING → deregister → (then the service stops consuming, finishes calls, closes)
//
// Between register and SERVING a caller may find the instance and wait for its health, never the other
// way round; and on stop callers move on at once, while the instance still answers what is in flight.
//
// In between, the entry follows the server's overall health: whatever turns it NOT_SERVING (a drain, an
// operator) takes the instance out of the registry, so that no caller picks it for a new call while it
// still answers; SERVING again puts it back, under the same id. Removing the entry, rather than marking
// it "not serving", keeps every backend and every client alike: NATS KV watchers see a delete, Consul's
// own gRPC check turns critical too, and the mesh client needs no second notion of health.
import { randomBytes } from "node:crypto";
import { type Logger, silentLogger } from "../log.js";
import type { Registration, Registry } from "./registry.js";
import type { ServiceInstance } from "./service-instance.js";

/** The version every instance registers with (the contracts' major version is in their package names). */
const SERVICE_VERSION = "0.1.0";

/** Who this instance is, as its configuration says. */
export interface SelfRegistrationOptions {
  /** The service's name in the registry: "order", "kitchen". */
  readonly service: string;
  /** The host other services dial to reach it (the config's advertiseHost). */
  readonly advertiseHost: string;
  /** Where a failed re-registration or removal is reported (they are retried at the next change). */
  readonly log?: Logger;
}

/** What self-registration needs of the gRPC server: its bound port, and its health status to flip and follow. */
export interface ServingServer {
  readonly port: number;
  setServing(serving: boolean): void;
  /** Calls `listener` on each change of the overall health, until the returned function is called. */
  onServingChange(listener: (serving: boolean) => void): () => void;
}

/** An instance that is in the registry while its server is SERVING, until withdraw(). */
export interface SelfRegistration {
  readonly instance: ServiceInstance;
  /** The first step of a stop: NOT_SERVING, then out of the registry, so that no new caller picks it. */
  withdraw(): Promise<void>;
}

/**
 * Registers the instance that `server` (started NOT_SERVING) serves, under a fresh id, and only then
 * turns its health to SERVING. From then on the entry follows the health: out on NOT_SERVING, back on
 * SERVING. Its `withdraw()` turns NOT_SERVING and deregisters for good.
 */
export async function registerSelf(
  registry: Registry,
  server: ServingServer,
  { service, advertiseHost, log = silentLogger() }: SelfRegistrationOptions,
): Promise<SelfRegistration> {
  let registration: Registration | undefined = await registry.register({
    service,
    id: `${service}-${server.port}-${randomBytes(3).toString("hex")}`,
    address: advertiseHost,
    port: server.port,
    version: SERVICE_VERSION,
    tags: ["grpc"],
  });
  const { instance } = registration;
  let withdrawn = false;
  // Changes apply one after the other, in the order the health took them.
  let changes = Promise.resolve();
  const follow = (serving: boolean) => {
    changes = changes.then(async () => {
      if (withdrawn) return;
      try {
        if (!serving && registration) {
          const leaving = registration;
          registration = undefined;
          await leaving.deregister();
          log.info({ instanceId: instance.id }, "NOT_SERVING: out of the service registry until SERVING again");
        } else if (serving && !registration) {
          registration = await registry.register(instance);
          log.info({ instanceId: instance.id }, "SERVING again: back in the service registry");
        }
      } catch (err) {
        log.warn({ err, instanceId: instance.id, serving }, "could not follow the health in the service registry");
      }
    });
  };
  const unfollow = server.onServingChange(follow);
  server.setServing(true);
  return {
    instance,
    async withdraw() {
      // Stop following first (after any change under way), so that a failure here reaches the caller.
      await changes;
      withdrawn = true;
      unfollow();
      server.setServing(false);
      const leaving = registration;
      registration = undefined;
      await leaving?.deregister();
    },
  };
}
