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
import { randomBytes } from "node:crypto";
import type { Registry } from "./registry.js";
import type { ServiceInstance } from "./service-instance.js";

/** The version every instance registers with (the contracts' major version is in their package names). */
const SERVICE_VERSION = "0.1.0";

/** Who this instance is, as its configuration says. */
export interface SelfRegistrationOptions {
  /** The service's name in the registry: "order", "kitchen". */
  readonly service: string;
  /** The host other services dial to reach it (the config's advertiseHost). */
  readonly advertiseHost: string;
}

/** What self-registration needs of the gRPC server: its bound port, and its health status to flip. */
export interface ServingServer {
  readonly port: number;
  setServing(serving: boolean): void;
}

/** An instance that is in the registry and SERVING, until withdraw(). */
export interface SelfRegistration {
  readonly instance: ServiceInstance;
  /** The first step of a stop: NOT_SERVING, then out of the registry, so that no new caller picks it. */
  withdraw(): Promise<void>;
}

/**
 * Registers the instance that `server` (started NOT_SERVING) serves, under a fresh id, and only then
 * turns its health to SERVING. Its `withdraw()` undoes both, in the reverse order.
 */
export async function registerSelf(
  registry: Registry,
  server: ServingServer,
  { service, advertiseHost }: SelfRegistrationOptions,
): Promise<SelfRegistration> {
  const registration = await registry.register({
    service,
    id: `${service}-${server.port}-${randomBytes(3).toString("hex")}`,
    address: advertiseHost,
    port: server.port,
    version: SERVICE_VERSION,
    tags: ["grpc"],
  });
  server.setServing(true);
  return {
    instance: registration.instance,
    async withdraw() {
      server.setServing(false);
      await registration.deregister();
    },
  };
}
