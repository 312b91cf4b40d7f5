// Logging something retried on a timer by its state, not by its attempts. A registry that is gone stays
// gone for every heartbeat until it comes back; one line when it goes and one when it is back tell an
// operator all there is, where a line per attempt buries every other line of the log.
import type { Logger } from "../log.js";

export interface OutageLogMessages {
  /** Logged as a warning, with the reason, when the first attempt fails. */
  readonly failing: string;
  /** Logged as info when an attempt succeeds after failures. */
  readonly recovered: string;
}

export interface OutageLog {
  /** Whether the last attempt failed. */
  readonly failing: boolean;
  /** The last attempt failed: a warning if the one before it succeeded, silence otherwise. */
  failed(err: unknown): void;
  /** The last attempt succeeded: "recovered" if the one before it failed, silence otherwise. */
  succeeded(): void;
}

/** Tracks one repeated attempt (a heartbeat, a watch's re-list) and logs only its changes of state. */
export function createOutageLog(log: Logger, messages: OutageLogMessages): OutageLog {
  let failing = false;
  let failures = 0;
  return {
    get failing() {
      return failing;
    },
    failed(err) {
      failures++;
      if (failing) return;
      failing = true;
      log.warn({ reason: reasonOf(err) }, messages.failing);
    },
    succeeded() {
      if (!failing) return;
      log.info({ failedAttempts: failures }, messages.recovered);
      failing = false;
      failures = 0;
    },
  };
}

/** An error's message and its causes', on one line: the reason without the stack. */
export function reasonOf(err: unknown): string {
  const parts: string[] = [];
  for (let cause: unknown = err; cause !== undefined && parts.length < 4; ) {
    parts.push(cause instanceof Error ? cause.message : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(": ");
}
