import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measurementOf } from "../../lib/stats.js";
import type { BenchOptions, Measurement } from "../../lib/suite.js";
import { openBareStore } from "./bare/store.js";

/** About the size of an ftgo event's protobuf body. */
const BODY = new Uint8Array(128).fill(0x61);

/**
 * The disk's own limit on this machine: committed SQLite transactions per second, one after another in
 * one process, each the transaction a saga step commits (a state row, a processed message id and one
 * outgoing message row: the bare pipeline's store), with the platform's pragmas — WAL and
 * `synchronous = NORMAL`, which fsyncs the WAL at checkpoints rather than at every commit: a commit
 * survives a process crash (SIGKILL) but the last ones before a power cut may be lost. A saga step can
 * commit no faster than this on one file; the rate is synchronous work, so the event loop is blocked
 * while it runs (nothing else runs in the bench process meanwhile).
 */
export function measureCommitRate(options: BenchOptions): Measurement {
  const dir = mkdtempSync(join(tmpdir(), "ftgo-sqlite-ceiling-"));
  const store = openBareStore(join(dir, "ceiling.db"));
  const commit = () => {
    const orderId = randomUUID();
    store.handleOnce(randomUUID(), () => {
      store.save({ order_id: orderId, state: "APPROVAL_PENDING", facts: 0, consumer_id: "", amount_minor: 0 });
      return [{ messageId: randomUUID(), subject: "bench.scratch", orderId, body: BODY }];
    });
  };
  try {
    commitFor(commit, options.warmupSeconds);
    const { latenciesMs, seconds } = commitFor(commit, options.seconds);
    return measurementOf(latenciesMs, seconds);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Commits one after another for `seconds`; each commit's latency. */
function commitFor(commit: () => void, seconds: number): { latenciesMs: number[]; seconds: number } {
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    commit();
    const done = process.hrtime.bigint();
    latenciesMs.push(Number(done - now) / 1e6);
    now = done;
  }
  return { latenciesMs, seconds: Number(now - start) / 1e9 };
}
