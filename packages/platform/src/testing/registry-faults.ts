// Breaking the NATS KV service registry the way an operator's slip or a lost store does, for tests that
// prove the mesh heals from it. Real JetStream, no mocks: the bucket's stream is replaced on the server.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { REGISTRY_BUCKET } from "../discovery/nats-kv.js";

const STREAM = `KV_${REGISTRY_BUCKET}`;
const KEYS = `$KV.${REGISTRY_BUCKET}.>`;

/** The registry as broken by breakRegistry, until repair(). */
export interface BrokenRegistry {
  /** How many puts (heartbeats, deregistrations) instances of `service` tried since the break. */
  attempts(service: string): number;
  /** Deletes the impostor stream and stops refusing puts: the next heartbeat can recreate the bucket. */
  repair(): Promise<void>;
}

/** Deletes the registry bucket's stream, as `nats stream rm KV_ftgo_registry` does. */
export async function deleteRegistryStream(nc: NatsConnection): Promise<void> {
  await (await jetstreamManager(nc)).streams.delete(STREAM);
}

/**
 * Breaks the registry so that it stays broken until repair(): the bucket's stream is replaced by one of
 * the same name that holds none of its keys, so that nobody can read the bucket or create it again (the
 * name is taken: creating the bucket opens the impostor); and every put is refused, with a JetStream
 * error, by a subscriber that counts them per service, so that a test can wait for a number of failed
 * heartbeats instead of a time.
 */
export async function breakRegistry(nc: NatsConnection): Promise<BrokenRegistry> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(STREAM).catch(() => false); // gone already is broken enough
  await jsm.streams.add({ name: STREAM, subjects: [`ftgo.test.${REGISTRY_BUCKET}.impostor`] });
  const counts = new Map<string, number>();
  const refusal = JSON.stringify({
    type: "io.nats.jetstream.api.v1.pub_ack_response",
    error: { code: 503, err_code: 10077, description: "the registry is broken by a test" },
  });
  const refuser = nc.subscribe(KEYS, {
    callback: (_err, msg) => {
      const service = msg.subject.split(".")[2] ?? "";
      counts.set(service, (counts.get(service) ?? 0) + 1);
      msg.respond(refusal);
    },
  });
  await nc.flush(); // the subscription is in place before the first heartbeat can miss it
  return {
    attempts: (service) => counts.get(service) ?? 0,
    async repair() {
      refuser.unsubscribe();
      await nc.flush();
      await jsm.streams.delete(STREAM);
    },
  };
}
