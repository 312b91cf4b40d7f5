// What a registry client must undo when it closes: the registrations it made and the watches it runs.
// Every backend keeps this bookkeeping the same way, so it lives here once.
import type { Logger } from "../log.js";
import type { Registration } from "./registry.js";
import type { ServiceInstance } from "./service-instance.js";

export interface RegistryHandles {
  /**
   * A registration of `instance` whose deregister() runs `remove` once, however often it is called, and
   * forgets it; close() deregisters it if nobody has.
   */
  registration(instance: ServiceInstance, remove: () => Promise<void>): Registration;
  /** A watch that `stop` ends; close() ends it if nobody has. */
  watch(stop: () => void): { stop(): void };
  /** Ends every watch, then deregisters every registration (a failure is logged, not thrown). */
  close(): Promise<void>;
}

export function createRegistryHandles(log: Logger): RegistryHandles {
  const registrations = new Set<Registration>();
  const watches = new Set<() => void>();
  return {
    registration(instance, remove) {
      let removed: Promise<void> | undefined;
      const registration: Registration = {
        instance,
        deregister: () => {
          removed ??= (async () => {
            registrations.delete(registration);
            await remove();
          })();
          return removed;
        },
      };
      registrations.add(registration);
      return registration;
    },
    watch(stop) {
      watches.add(stop);
      return {
        stop: () => {
          watches.delete(stop);
          stop();
        },
      };
    },
    async close() {
      for (const stop of watches) stop();
      watches.clear();
      await Promise.all(
        [...registrations].map((registration) =>
          registration.deregister().catch((err: unknown) => log.warn({ err }, "could not deregister on close")),
        ),
      );
    },
  };
}
