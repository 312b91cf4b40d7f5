import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { runLoad } from "../../lib/load.js";
import type { BenchOptions, Measurement } from "../../lib/suite.js";

const SCRATCH_STREAM = "BENCH_SCRATCH";
const SCRATCH_SUBJECT = "bench.scratch";
/** About the size of an ftgo event: a protobuf body of a few ids and an amount. */
const PAYLOAD = new Uint8Array(128).fill(0x61);
/** Publishes in flight, the figure STACK-NOTES measured JetStream's rate with. */
export const PUBLISHES_IN_FLIGHT = 256;

/**
 * The broker's own limit on this machine: JetStream publishes of 128-byte messages to a file-backed
 * scratch stream, 256 in flight, each with a `Nats-Msg-Id` as the outbox relay sends them (so the
 * server does its de-duplication work too). A saga can go no faster than this rate divided by the
 * messages one saga publishes. The stream is deleted afterwards.
 */
export async function measurePublishRate(nc: NatsConnection, options: BenchOptions): Promise<Measurement> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: SCRATCH_STREAM, subjects: [SCRATCH_SUBJECT], storage: StorageType.File });
  try {
    const js = jetstream(nc);
    return await runLoad(() => js.publish(SCRATCH_SUBJECT, PAYLOAD, { msgID: randomUUID() }), {
      concurrency: PUBLISHES_IN_FLIGHT,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
    });
  } finally {
    await jsm.streams.delete(SCRATCH_STREAM);
  }
}
