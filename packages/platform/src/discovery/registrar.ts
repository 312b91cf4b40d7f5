// Third-party registration: a registrar, not the service, enters each service instance in the service
// registry when it has started and removes it when it stops. The registrar is whatever starts and watches
// the processes (`make up`'s supervisor, a test's harness); the service keeps no registry code at all and
// only answers the gRPC health check that the registry (Consul) runs against it. Paired with server-side
// discovery: the router reads the same registry, so each registration carries the router's tags.
import type { Logger } from "../log.js";
import { type ConsulCheckSettings, createConsulRegistry } from "./consul.js";
import type { Registration } from "./registry.js";
import { routerTags } from "./router.js";

/** The version every instance is registered with, as self-registration does. */
const SERVICE_VERSION = "0.1.0";

/** A process the registrar has seen start: which service it serves and where. */
export interface StartedProcess {
  readonly service: string;
  /** The host other processes (the router) dial to reach it. */
  readonly address: string;
  readonly port: number;
}

export interface Registrar {
  /**
   * Registers a process that has started, under an id its address makes stable (`kitchen-127-0-0-1-50053`),
   * so that registering it again after a restart replaces its entry rather than adding one.
   */
  register(process: StartedProcess): Promise<Registration>;
  /** Deregisters every process it registered that is still registered, and closes its Consul client. */
  close(): Promise<void>;
}

export interface RegistrarOptions {
  /** Consul's HTTP API, `host:port` or a URL. */
  readonly consulAddr: string;
  /** The gRPC health check Consul runs against every process. Default: the self-registration one. */
  readonly check?: ConsulCheckSettings;
  readonly log: Logger;
}

/** A registrar that registers with Consul, a gRPC health check and the router's tags on every entry. */
export function createRegistrar({ consulAddr, check, log }: RegistrarOptions): Registrar {
  const consul = createConsulRegistry({ addr: consulAddr, check, log: log.child({ registrar: "consul" }) });
  return {
    register: ({ service, address, port }) =>
      consul.register({
        service,
        id: `${service}-${address.replace(/[^A-Za-z0-9]+/g, "-")}-${port}`,
        address,
        port,
        version: SERVICE_VERSION,
        tags: ["grpc", "registered-by-registrar", ...routerTags(service)],
      }),
    close: () => consul.close(),
  };
}
