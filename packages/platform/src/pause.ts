// A background loop's rest between rounds: wait a while, unless something wakes it first. The outbox relay
// (kicked after a commit) and Delivery's dispatcher (kicked after a delivery is recorded) both rest this way.

export interface Pause {
  /**
   * Waits `ms`, or until `wake()`. With `{ wakeable: false }` (a backoff that kicks must not defeat) only
   * `wake({ force: true })` ends it early.
   */
  sleep(ms: number, options?: { readonly wakeable?: boolean }): Promise<void>;
  /** Ends the sleep in progress, if any and if it may be woken (a forced wake ends any). */
  wake(options?: { readonly force?: boolean }): void;
}

/** A pause for one loop: at most one sleep at a time. */
export function createPause(): Pause {
  let wake: ((force: boolean) => void) | undefined;
  return {
    sleep(ms, { wakeable = true } = {}) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = (force) => {
          if (wakeable || force) done();
        };
      });
    },
    wake({ force = false } = {}) {
      wake?.(force);
    },
  };
}
