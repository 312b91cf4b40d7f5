import { measurementOf } from "./stats.js";
import type { Measurement } from "./suite.js";

export interface LoadOptions {
  /** Calls kept in flight: each of this many workers starts its next call as soon as its last one returns. */
  readonly concurrency: number;
  /** Load applied first and not recorded. */
  readonly warmupSeconds: number;
  /** The timed window. */
  readonly seconds: number;
}

/**
 * Drives `call` with a closed loop — a fixed number of calls in flight, each replaced the moment it
 * returns — first for a warm-up, then for a timed window, and measures that window. A closed loop
 * finds the throughput a client reaches at that concurrency; its latencies include time queued behind
 * the other calls in flight, which is what a caller of a busy service sees. Only calls that complete
 * inside the window count, so the calls still in flight when it closes do not stretch it. The first
 * failed call stops the load and rejects: figures of failing calls measure nothing.
 */
export async function runLoad(call: () => Promise<unknown>, options: LoadOptions): Promise<Measurement> {
  await window(call, options.concurrency, options.warmupSeconds);
  const { latenciesMs, seconds } = await window(call, options.concurrency, options.seconds);
  return measurementOf(latenciesMs, seconds);
}

/** Keeps `concurrency` calls in flight for `seconds`; returns each completed call's latency. */
async function window(
  call: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<{ latenciesMs: number[]; seconds: number }> {
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  let end = 0n;
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    end = process.hrtime.bigint();
  };
  const timer = setTimeout(close, seconds * 1000);
  const worker = async () => {
    while (open) {
      const sent = process.hrtime.bigint();
      await call();
      const received = process.hrtime.bigint();
      if (open) latenciesMs.push(Number(received - sent) / 1e6);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearTimeout(timer);
    close();
  }
  return { latenciesMs, seconds: Number(end - start) / 1e9 };
}
