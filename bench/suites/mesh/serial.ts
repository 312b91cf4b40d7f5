import { Code, ConnectError } from "@connectrpc/connect";
import { percentile } from "../../lib/stats.js";

/*
 * Timing calls one after another, none in flight beside it: what one call costs by itself. The
 * rejection phases need this, since a rejection is a few microseconds of work in this process and a
 * closed loop of 64 would time the event loop's queue instead.
 */

/** One row of the one-at-a-time table, as saved in the JSON. */
export interface SerialResult {
  readonly name: string;
  readonly label: string;
  readonly calls: number;
  readonly seconds: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** GetMenu calls that reached the server while these were timed, by the server's own count (rejections). */
  readonly serverCalls?: number;
}

/** A tenth of the timed count is made first, untimed, so that the path is compiled before it is measured. */
const WARM_UP_SHARE = 0.1;

/** Makes `count` calls of `call` one after another (after a warm-up) and returns their p50 and p99. */
export async function timeSerially(
  call: () => Promise<unknown>,
  count: number,
): Promise<Pick<SerialResult, "calls" | "seconds" | "p50Us" | "p99Us">> {
  for (let i = 0; i < Math.ceil(count * WARM_UP_SHARE); i++) await call();
  const latenciesUs = new Float64Array(count);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const sent = process.hrtime.bigint();
    await call();
    latenciesUs[i] = Number(process.hrtime.bigint() - sent) / 1e3;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latenciesUs.sort();
  return { calls: count, seconds, p50Us: percentile(latenciesUs, 50), p99Us: percentile(latenciesUs, 99) };
}

/**
 * `call` turned into one that must be rejected with `code` and a message containing `text`: anything
 * else (a success, another failure) throws, so a phase that stopped rejecting cannot pass for a fast one.
 */
export function rejectedWith(call: () => Promise<unknown>, code: Code, text: string): () => Promise<void> {
  return async () => {
    try {
      await call();
    } catch (thrown) {
      const error = ConnectError.from(thrown);
      if (error.code === code && error.rawMessage.includes(text)) return;
      throw new Error(`expected ${Code[code]} "${text}…", got ${Code[error.code]}: ${error.rawMessage}`, {
        cause: thrown,
      });
    }
    throw new Error(`expected ${Code[code]} "${text}…", but the call succeeded`);
  };
}
