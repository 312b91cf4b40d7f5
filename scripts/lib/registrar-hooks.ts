// Third-party registration in `make up DISCOVERY=server`: the supervisor starts and watches every process, so it
// knows before anyone when one is ready and when one goes; these hooks make it the registrar. A service is
// registered in Consul (with the router's tags) once it is ready, after every start; it is deregistered before
// it is asked to stop, so the router sends it no new call while it drains, and as soon as it exits unasked (a
// crash, `make kill`), rather than when Consul's check of it has failed long enough. With SCALE=2 each instance
// (`order`, `order-2`) is registered under its service's name, as an instance of its own (its port in its id), and
// the router balances over them.
import type { Registrar, Registration } from "@ftgo/platform";
import type { SupervisorHooks } from "./supervisor.js";

export interface RegistrarHooksOptions {
  readonly registrar: Registrar;
  /**
   * The service a process serves (`order` for `order-2`) and where it listens; undefined for one the router never
   * calls (gateway, couriers).
   */
  readonly addressOf: (
    name: string,
  ) => { readonly service: string; readonly address: string; readonly port: number } | undefined;
  /** A line for the `up` log, and one in red for what went wrong. */
  readonly say: (text: string) => void;
  readonly shout: (text: string) => void;
}

export interface RegistrarHooks extends SupervisorHooks {
  /** Deregisters whatever is still registered and closes the registrar's Consul client. */
  close(): Promise<void>;
}

/** Supervisor hooks that keep each routed process's Consul entry in step with its life. */
export function createRegistrarHooks({ registrar, addressOf, say, shout }: RegistrarHooksOptions): RegistrarHooks {
  /**
   * The registration of each process, set as soon as it is asked for: a deregistration that comes while it is
   * still being made waits for it and removes it, so a process that dies meanwhile is not left behind.
   */
  const registrations = new Map<string, Promise<Registration>>();

  const deregister = async (name: string, why: string): Promise<void> => {
    const pending = registrations.get(name);
    if (!pending) return;
    registrations.delete(name);
    const registration = await pending.catch(() => undefined); // a failed registration left nothing to remove
    if (!registration) return;
    await registration.deregister();
    say(`deregistered ${name} from Consul (${why}): the router sends it no new call`);
  };

  return {
    async onReady(name) {
      const at = addressOf(name);
      if (!at) return;
      const pending = registrar.register(at);
      registrations.set(name, pending);
      const { instance } = await pending.catch((err: unknown) => {
        if (registrations.get(name) === pending) registrations.delete(name);
        throw new Error(`could not register it in Consul: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      });
      say(`registered ${name} in Consul as ${instance.id}: the router sends it calls once its gRPC check passes`);
    },
    onExit: (name) => deregister(name, "it exited"),
    beforeStop: (name) => deregister(name, "before it is asked to stop"),
    async close() {
      await Promise.all([...registrations.keys()].map((name) => deregister(name, "up is stopping")));
      await registrar.close().catch((err: unknown) => shout(`closing the registrar: ${String(err)}`));
    },
  };
}
