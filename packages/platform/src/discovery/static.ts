// A service registry written by hand: the instances are listed in configuration (STATIC_INSTANCES) and
// never change while the process runs. It suits a fixed deployment, and tests that want discovery
// without a registry server; it cannot notice a crashed instance, which is what the other two are for.
import type { Logger } from "../log.js";
import type { Registry } from "./registry.js";
import { assertServiceName, byId, onListChange, type ServiceInstance, validateInstance } from "./service-instance.js";

export interface StaticRegistryOptions {
  readonly instances: readonly ServiceInstance[];
  readonly log: Logger;
}

/**
 * A service registry over a fixed list. Client-side discovery reads the list; self-registration is
 * accepted and changes nothing, because whoever wrote the configuration already entered every
 * instance. A watch reports the list once, as it never changes.
 */
export function createStaticRegistry({ instances, log }: StaticRegistryOptions): Registry {
  const all = instances.map(validateInstance).sort(byId);
  const of = (service: string) => all.filter((instance) => instance.service === service);
  return {
    kind: "static",
    async register(candidate) {
      const instance = validateInstance(candidate);
      log.debug({ instanceId: instance.id }, "static registry: nothing to register");
      return { instance, deregister: async () => {} };
    },
    async lookup(service) {
      assertServiceName(service);
      return of(service);
    },
    watch: (service, onChange) => watchFixed(service, of, onChange, log),
    async close() {},
  };
}

/** A watch of a list that never changes: reports `list(service)` once, asynchronously, unless stopped first. */
export function watchFixed(
  service: string,
  list: (service: string) => ServiceInstance[],
  onChange: (instances: ServiceInstance[]) => void,
  log: Logger,
): { stop(): void } {
  assertServiceName(service);
  let stopped = false;
  const report = onListChange(onChange, log.child({ target: service }));
  queueMicrotask(() => {
    if (!stopped) report(list(service));
  });
  return {
    stop: () => {
      stopped = true;
    },
  };
}
