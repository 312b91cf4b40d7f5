// Every child process the harness spawns, in one register, so that none outlives the process that started
// it. Stopping what one started is each starter's job (a failed start stops what it started before it
// rethrows); this register is the last resort: whatever is still running when this process exits gets SIGKILL.

/** A child process the harness started and has not yet seen exit. */
export interface TrackedChild {
  readonly pid: number;
  /** What it is: "kitchen#2", "gateway". */
  readonly label: string;
}

const live = new Map<number, TrackedChild>();
const listeners = new Set<(child: TrackedChild) => void>();

process.on("exit", () => {
  for (const pid of live.keys()) sendSignal(pid, "SIGKILL");
});

/** Records a child just spawned; `untrackChild` once it has exited. Tells every `onChildSpawned` listener. */
export function trackChild(child: TrackedChild): void {
  live.set(child.pid, child);
  for (const listener of listeners) listener(child);
}

export function untrackChild(pid: number): void {
  live.delete(pid);
}

/** True while the child has not been seen to exit. */
export function isTracked(pid: number): boolean {
  return live.has(pid);
}

/** The children still running, oldest first. */
export function trackedChildren(): TrackedChild[] {
  return [...live.values()];
}

/** Calls `listener` for every child spawned from now on (a test collects the pids a start spawned); returns the unsubscribe. */
export function onChildSpawned(listener: (child: TrackedChild) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** process.kill, except that a process which has just exited (its exit not yet reported) is no error. */
export function sendSignal(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    return false;
  }
}

/** True when a process with this pid exists (a zombie not yet reaped counts as gone only once reaped). */
export function processExists(pid: number): boolean {
  return sendSignal(pid, 0);
}
