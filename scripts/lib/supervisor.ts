// The supervisor of `make up`, built for learners who break things on purpose: when one process dies the
// others keep running, the log says which one, how it died and how to bring it back, and it stays down
// until asked (`npm run mesh -- start <name>`), or comes back by itself after a backoff with RESTART=always.
// Only a process that dies while the mesh is still starting up fails the whole start.
import { describeExit, type ExitStatus, type ServiceProcess, type StopOptions } from "@ftgo/harness/service-process.js";

/** "go-service": a service of go/cmd (GO_SERVICES in the roster), built before it starts. */
export type ProcessKind =
  | "service"
  | "go-service"
  | "gateway"
  | "courier"
  | "nats-server"
  | "consul"
  | "traefik"
  | "jaeger"
  | "prometheus";

/** One process the supervisor runs: how to start it and how to tell it is ready. */
export interface ProcessSpec {
  readonly name: string;
  readonly kind: ProcessKind;
  /** Where it listens ("127.0.0.1:50051"); couriers have none. */
  readonly address?: string;
  /**
   * A process that must be ready before startAll starts this one: `order` for `order-2`, so that one instance
   * alone creates the schema of the database they share. Later starts (`make start`, RESTART=always) do not wait.
   */
  readonly after?: string;
  spawn(): ServiceProcess;
  /** Resolves once the process serves; rejects when `signal` aborts (the process exited, or everything stops). */
  ready(signal: AbortSignal): Promise<void>;
}

export type ProcessState = "starting" | "ready" | "stopped" | "exited";

/** A process as `npm run mesh -- status` shows it. */
export interface ProcessStatus {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly address?: string;
  readonly pid?: number;
  readonly state: ProcessState;
  /** How it ended, when "exited": "killed by SIGKILL", "exited with code 1", "…; restarting in 2 s". */
  readonly how?: string;
  /** How many times it was started again after its first start. */
  readonly restarts: number;
  /** How long its last start took, from spawn to ready, in ms (once it has been ready). */
  readonly readyMs?: number;
}

/** What a start or a kill did, in a sentence for the person who asked; `ok` false when it could not. */
export interface ControlAnswer {
  readonly ok: boolean;
  readonly message: string;
  readonly process?: ProcessStatus;
}

export type RestartPolicy = "no" | "always";

/**
 * What the supervisor tells whoever follows its processes' lives (the registrar of server-side discovery).
 * Each is awaited where it happens, and a hook that throws is reported, never fatal, except `onReady`:
 * a process is ready once its hook has run, so a start whose hook fails is a failed start.
 */
export interface SupervisorHooks {
  /** The process `name` has become ready (after every start and restart). */
  onReady?(name: string): Promise<void>;
  /** The process `name` has exited, whoever asked (a crash, a kill, a stop); `onReady` may not have run. */
  onExit?(name: string): Promise<void>;
  /** The process `name` is about to be asked to stop (SIGTERM, SIGINT), before the signal is sent. */
  beforeStop?(name: string): Promise<void>;
}

export interface SupervisorOptions {
  readonly restart: RestartPolicy;
  /** A line for the `up` log, and one in red for what went wrong. */
  readonly say: (text: string) => void;
  readonly shout: (text: string) => void;
  readonly hooks?: SupervisorHooks;
}

export class UnknownProcessError extends Error {
  override readonly name = "UnknownProcessError";
}

/** RESTART=always waits this long before the first restart, doubling while the process keeps dying unready. */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** How long `kill` waits to see the process gone: SIGKILL is immediate, SIGTERM lets a service drain. */
const KILL_WAIT_MS = 15_000;
/** The signals that ask a process to stop gracefully: `beforeStop` runs before they are sent. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

interface Slot {
  readonly spec: ProcessSpec;
  child?: ServiceProcess;
  /** The child's exit, once the supervisor has followed it (the onExit hook has run). */
  exited?: Promise<ExitStatus>;
  state: ProcessState;
  how?: string;
  starts: number;
  backoffMs: number;
  restartAt?: number;
  restartTimer?: NodeJS.Timeout;
  /** The signal `kill` sent, so that the log says the exit was asked for. */
  killedWith?: NodeJS.Signals;
  readyMs?: number;
}

export type Supervisor = ReturnType<typeof createSupervisor>;

/** A supervisor over `specs`, nothing started yet: `startAll()`, then `supervise()` once the mesh is up. */
export function createSupervisor(specs: readonly ProcessSpec[], options: SupervisorOptions) {
  const { restart, say, shout, hooks = {} } = options;
  const slots = new Map(
    specs.map((spec) => [spec.name, { spec, state: "stopped", starts: 0, backoffMs: FIRST_BACKOFF_MS } as Slot]),
  );
  const stopping = new AbortController();
  let supervising = false;

  const slotOf = (name: string): Slot => {
    const slot = slots.get(name);
    if (!slot) throw new UnknownProcessError(`no process named ${name}: the mesh runs ${[...slots.keys()].join(", ")}`);
    return slot;
  };

  const statusOf = (slot: Slot): ProcessStatus => {
    const { name, kind, address } = slot.spec;
    const restarting = slot.restartAt
      ? `; restarting in ${Math.max(0, Math.ceil((slot.restartAt - Date.now()) / 1000))} s`
      : "";
    const running = slot.state === "starting" || slot.state === "ready";
    return {
      name,
      kind,
      address,
      pid: running ? slot.child?.pid : undefined,
      state: slot.state,
      how: slot.how ? slot.how + restarting : undefined,
      restarts: Math.max(0, slot.starts - 1),
      readyMs: slot.readyMs,
    };
  };

  /** Runs a hook other than onReady: what it throws is logged, and the supervisor carries on. */
  const follow = async (hook: "onExit" | "beforeStop", name: string): Promise<void> => {
    try {
      await hooks[hook]?.(name);
    } catch (err) {
      shout(`${name}: ${hook} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const bringBack = (name: string) => `\`make start SVC=${name}\` (or \`npm run mesh -- start ${name}\`)`;

  /** Starts the process and resolves once it is ready, or has exited, or will not be ready. */
  const launch = async (slot: Slot): Promise<ControlAnswer> => {
    clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
    slot.restartAt = undefined;
    slot.killedWith = undefined;
    slot.how = undefined;
    slot.state = "starting";
    slot.starts++;
    slot.readyMs = undefined;
    const spawnedAt = performance.now();
    const child = slot.spec.spawn();
    slot.child = child;
    const alive = new AbortController();
    const exited = child.exited.then(async (status) => {
      alive.abort();
      if (slot.child === child) await follow("onExit", slot.spec.name);
      onExit(slot, child, status);
      return status;
    });
    slot.exited = exited;
    const { name } = slot.spec;
    try {
      await slot.spec.ready(AbortSignal.any([alive.signal, stopping.signal]));
      if (slot.child !== child || alive.signal.aborted || stopping.signal.aborted) throw new Error("exited");
      await hooks.onReady?.(name);
      if (slot.child !== child || alive.signal.aborted) throw new Error("exited");
      slot.state = "ready";
      slot.readyMs = performance.now() - spawnedAt;
      slot.backoffMs = FIRST_BACKOFF_MS;
      return { ok: true, message: `${name} is ready (pid ${child.pid})`, process: statusOf(slot) };
    } catch (err) {
      if (stopping.signal.aborted) return { ok: false, message: `${name}: everything is stopping` };
      if (alive.signal.aborted) {
        const how = describeExit(await exited);
        return {
          ok: false,
          message: `${name} ${how} while starting (see the \`make up\` log)`,
          process: statusOf(slot),
        };
      }
      const why = err instanceof Error ? err.message : String(err);
      return {
        ok: false,
        message: `${name} runs (pid ${child.pid}) but is not ready: ${why}`,
        process: statusOf(slot),
      };
    }
  };

  const onExit = (slot: Slot, child: ServiceProcess, status: ExitStatus) => {
    if (slot.child !== child) return;
    const asked = slot.killedWith;
    if (stopping.signal.aborted || (asked && asked !== "SIGKILL" && status.code === 0)) {
      slot.state = "stopped";
      if (!stopping.signal.aborted) say(`${slot.spec.name} (pid ${child.pid}) stopped on ${asked}`);
      return;
    }
    slot.state = "exited";
    slot.how = describeExit(status).replace(/^was /, ""); // "exited: killed by SIGKILL"
    const how = describeExit(status);
    if (!supervising) return; // still starting up: startAll reports it and stops everything
    const cause = asked ? `, as asked by \`npm run mesh -- kill ${slot.spec.name}\`` : ", unexpectedly";
    const next =
      restart === "always"
        ? `RESTART=always: starting it again in ${slot.backoffMs / 1000} s.`
        : `It stays down; bring it back with ${bringBack(slot.spec.name)}.`;
    shout(`${slot.spec.name} (pid ${child.pid}) ${how}${cause}. The rest keep running. ${next}`);
    if (restart === "always") scheduleRestart(slot);
  };

  const scheduleRestart = (slot: Slot) => {
    const delay = slot.backoffMs;
    slot.backoffMs = Math.min(delay * 2, MAX_BACKOFF_MS);
    slot.restartAt = Date.now() + delay;
    slot.restartTimer = setTimeout(() => void relaunch(slot), delay);
  };

  /** A start after the first: logged when it is ready again, or why not. */
  const relaunch = async (slot: Slot): Promise<ControlAnswer> => {
    say(`starting ${slot.spec.name} again`);
    const answer = await launch(slot);
    if (answer.ok)
      say(`${slot.spec.name} is ready again (pid ${answer.process?.pid}, restart ${answer.process?.restarts})`);
    else if (!stopping.signal.aborted) shout(answer.message);
    return answer;
  };

  return {
    /**
     * Starts every process at once, each one that comes `after` another once that one is ready; rejects as soon as
     * one of them exits or will not be ready (one waiting for it is then never started).
     */
    async startAll(): Promise<void> {
      const starts = new Map<string, Promise<void>>();
      const startOf = (slot: Slot): Promise<void> => {
        const known = starts.get(slot.spec.name);
        if (known) return known;
        const first = slot.spec.after ? startOf(slotOf(slot.spec.after)) : Promise.resolve();
        const start = first.then(async () => {
          if (stopping.signal.aborted) throw new Error(`${slot.spec.name}: everything is stopping`);
          const answer = await launch(slot);
          if (!answer.ok) throw new Error(answer.message);
        });
        starts.set(slot.spec.name, start);
        return start;
      };
      await Promise.all([...slots.values()].map(startOf));
    },

    /** From now on a death is the learner's experiment: the rest keep running. */
    supervise(): void {
      supervising = true;
    },

    status(): ProcessStatus[] {
      return [...slots.values()].map(statusOf);
    },

    /** Starts a process that is not running; a clear no-op for one that is. */
    async start(name: string): Promise<ControlAnswer> {
      const slot = slotOf(name);
      if (stopping.signal.aborted) return { ok: false, message: "everything is stopping" };
      if (slot.state === "starting" || slot.state === "ready") {
        const message = `${name} is already running (pid ${slot.child?.pid}, ${slot.state}): nothing to do`;
        return { ok: true, message, process: statusOf(slot) };
      }
      return relaunch(slot);
    },

    /** Sends `signal` to a running process and waits for it to exit; SIGKILL is a crash, which is the point. */
    async kill(name: string, signal: NodeJS.Signals): Promise<ControlAnswer> {
      const slot = slotOf(name);
      const { child, exited } = slot;
      if (!child?.pid || (slot.state !== "starting" && slot.state !== "ready")) {
        const why = slot.how ? `exited: ${slot.how}` : slot.state;
        return { ok: true, message: `${name} is not running (${why}): nothing to kill`, process: statusOf(slot) };
      }
      slot.killedWith = signal;
      if (STOP_SIGNALS.includes(signal)) await follow("beforeStop", name);
      process.kill(child.pid, signal);
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), KILL_WAIT_MS).unref());
      const status = await Promise.race([exited ?? child.exited, timeout]);
      if (!status)
        return {
          ok: false,
          message: `${name} (pid ${child.pid}) still runs ${KILL_WAIT_MS / 1000} s after ${signal}`,
          process: statusOf(slot),
        };
      const now = statusOf(slot);
      const how = now.state === "stopped" ? `stopped on ${signal}` : describeExit(status);
      const next = slot.restartAt ? "RESTART=always starts it again shortly" : `bring it back with ${bringBack(name)}`;
      return { ok: true, message: `${name} (pid ${child.pid}) ${how}; ${next}`, process: now };
    },

    /** Stops every running process (all at once) and cancels pending restarts; names those that had to be killed. */
    async stopAll(stop: StopOptions): Promise<string[]> {
      stopping.abort();
      const forced = await Promise.all(
        [...slots.values()].map(async (slot) => {
          clearTimeout(slot.restartTimer);
          slot.restartAt = undefined;
          if (!slot.child) return [];
          if (slot.state === "starting" || slot.state === "ready") await follow("beforeStop", slot.spec.name);
          const { forced } = await slot.child.stop(stop);
          return forced ? [slot.spec.name] : [];
        }),
      );
      return forced.flat();
    },
  };
}
