// The seed's second solution to discovery, as tests run it: a Consul agent (the registry), Traefik in front of
// it (the router of server-side discovery) and a registrar (third-party registration) played by the harness,
// which starts the processes and so knows when each has started and when it stops. The services run with
// DISCOVERY=server: they register nothing themselves and send every call to the router.
import { createRegistrar, type Registrar, type Registration, silentLogger } from "@ftgo/platform";
import { type ConsulAgent, startConsulAgent } from "./consul-agent.js";
import type { ServiceInstance } from "./service-instance.js";
import { startTraefik, type Traefik } from "./traefik.js";

/** Consul's gRPC check of every registered process: a crash or a drain turns it critical within this. */
export const REGISTRAR_CHECK = { interval: "1s", timeout: "900ms", deregisterAfter: "1m" } as const;

export interface ServerSideDiscovery {
  readonly consul: ConsulAgent;
  readonly router: Traefik;
  readonly registrar: Registrar;
  /** What every service needs to call through the router: DISCOVERY=server, DISCOVERY_ROUTER. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Registers a service process with Consul now, and keeps its entry the way a supervisor would: out before
   * stop() or restart() signals it, out once kill() has ended it, back in after restart().
   */
  register(service: ServiceInstance): Promise<RegisteredService>;
  /** Deregisters what is still registered, then stops Traefik and the Consul agent. */
  stop(): Promise<void>;
}

/** A service process and its registration by the registrar; kill, stop and restart keep the two in step. */
export type RegisteredService = ServiceInstance;

/** Starts Consul, then Traefik on it; a start that fails stops what it started. */
export async function startServerSideDiscovery(): Promise<ServerSideDiscovery> {
  const consul = await startConsulAgent();
  let router: Traefik;
  try {
    router = await startTraefik({ consulAddr: consul.httpAddr });
  } catch (err) {
    await consul.stop();
    throw err;
  }
  const registrar = createRegistrar({ consulAddr: consul.httpAddr, check: REGISTRAR_CHECK, log: silentLogger() });
  return {
    consul,
    router,
    registrar,
    env: { DISCOVERY: "server", DISCOVERY_ROUTER: router.grpcAddr },
    register: (service) => registered(registrar, service),
    async stop() {
      await registrar.close();
      await router.stop();
      await consul.stop();
    },
  };
}

async function registered(registrar: Registrar, service: ServiceInstance): Promise<RegisteredService> {
  const entry = () => registrar.register({ service: service.name, address: "127.0.0.1", port: service.port });
  let registration: Registration | undefined = await entry();
  const deregister = async () => {
    const leaving = registration;
    registration = undefined;
    await leaving?.deregister();
  };
  return {
    get name() {
      return service.name;
    },
    get label() {
      return service.label;
    },
    get port() {
      return service.port;
    },
    get address() {
      return service.address;
    },
    get pid() {
      return service.pid;
    },
    get readyMs() {
      return service.readyMs;
    },
    get running() {
      return service.running;
    },
    get crashes() {
      return service.crashes;
    },
    async kill(signal = "SIGKILL") {
      await service.kill(signal);
      // A supervisor learns of an exit when it happens; a process frozen with SIGSTOP is Consul's to notice.
      if (signal !== "SIGSTOP" && signal !== "SIGCONT") await deregister();
    },
    async restart() {
      await deregister();
      await service.restart();
      registration = await entry();
    },
    async stop() {
      await deregister();
      await service.stop();
    },
    output: () => service.output(),
  };
}
