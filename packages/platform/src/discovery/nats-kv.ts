// The embedded service registry: a JetStream key-value bucket on the NATS server the mesh already runs.
// Each instance's entry lives under `<service>.<instanceId>`, its value the instance as JSON. Health is
// liveness: the bucket has a TTL (its stream's max age), the owner re-puts its entry every heartbeat,
// and an instance that stops beating (crashed, frozen, cut off) vanishes when the TTL runs out. NATS
// 2.9 has no per-key TTL; the bucket's applies to every key alike.
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import { createRegistryHandles } from "./handles.js";
import { keyOf, keySource, listEntries, watchService } from "./nats-kv-watch.js";
import type { Registry } from "./registry.js";
import { assertServiceName, byId, onListChange, validateInstance } from "./service-instance.js";

/** The bucket every ftgo service registers in. Its stream is `KV_ftgo_registry`. */
export const REGISTRY_BUCKET = "ftgo_registry";

export interface NatsKvRegistryOptions {
  readonly nc: NatsConnection;
  /** The bucket's TTL when this call creates it. An existing bucket keeps its own (with a warning). */
  readonly ttlMs: number;
  /** How often registrations re-put their entries; lowered to a third of the bucket's TTL if above. */
  readonly heartbeatMs: number;
  readonly log: Logger;
}

/**
 * Opens the NATS KV service registry, creating its bucket if no service has yet. Self-registration puts
 * the instance and re-puts it every heartbeat; deregistration deletes it; client-side discovery lists
 * the keys `<service>.*` and watches them. Several services may start at once: creating the bucket
 * with the same settings is idempotent, and one that loses the race with other settings opens the
 * winner's bucket.
 */
export async function createNatsKvRegistry({ nc, ttlMs, heartbeatMs, log }: NatsKvRegistryOptions): Promise<Registry> {
  const { kv, bucketTtlMs } = await openBucket(nc, ttlMs, log);
  const keys = keySource(await jetstreamManager(nc), REGISTRY_BUCKET);
  const beatMs = Math.min(heartbeatMs, Math.floor(bucketTtlMs / 3));
  const handles = createRegistryHandles(log);
  return {
    kind: "nats-kv",
    async register(candidate) {
      const instance = validateInstance(candidate);
      const key = keyOf(instance);
      const value = JSON.stringify(instance);
      await kv.put(key, value);
      const heartbeat = startHeartbeat(nc, kv, key, value, beatMs, log);
      log.info({ key, ttlMs: bucketTtlMs, heartbeatMs: beatMs }, "registered in the service registry");
      return handles.registration(instance, async () => {
        await heartbeat.stop();
        await kv.delete(key);
        log.info({ key }, "deregistered from the service registry");
      });
    },
    async lookup(service) {
      assertServiceName(service);
      return (await listEntries(kv, keys, service, log)).map((entry) => entry.instance).sort(byId);
    },
    watch(service, onChange) {
      assertServiceName(service);
      const watchLog = log.child({ target: service });
      const report = onListChange(onChange, watchLog);
      const watch = watchService({
        nc,
        kv,
        keys,
        service,
        relistMs: Math.floor(bucketTtlMs / 2),
        report,
        log: watchLog,
      });
      return handles.watch(() => watch.stop());
    },
    close: () => handles.close(),
  };
}

async function openBucket(nc: NatsConnection, ttlMs: number, log: Logger) {
  const kvm = new Kvm(nc);
  let kv: KV;
  try {
    // Opens the bucket if it exists, whatever its settings; creates it otherwise. Only the latest value
    // of a key matters to discovery, so no history is kept.
    kv = await kvm.create(REGISTRY_BUCKET, { ttl: ttlMs, history: 1, description: "ftgo service registry" });
  } catch (err) {
    // Lost a creation race to a service configured with another TTL: the stream now exists, use it.
    if (!(err instanceof JetStreamApiError)) throw err;
    kv = await kvm.open(REGISTRY_BUCKET);
  }
  const bucketTtlMs = (await kv.status()).ttl;
  if (bucketTtlMs !== ttlMs) {
    log.warn({ bucketTtlMs, configuredTtlMs: ttlMs }, "the registry bucket has another TTL; it wins");
  }
  return { kv, bucketTtlMs };
}

/**
 * Re-puts the entry every `everyMs`, each beat scheduled after the previous one ends so that a slow
 * broker never stacks puts. A failed beat is logged and the next one tried: once NATS is back, the
 * entry comes back too, even if it expired meanwhile. A closed connection ends the heartbeat.
 */
function startHeartbeat(nc: NatsConnection, kv: KV, key: string, value: string, everyMs: number, log: Logger) {
  let stopped = false;
  let beating = Promise.resolve();
  let timer: NodeJS.Timeout;
  const beat = async () => {
    try {
      await kv.put(key, value);
    } catch (err) {
      if (nc.isClosed()) {
        log.warn({ key }, "NATS connection closed; registry heartbeat stopped");
        return;
      }
      log.warn({ err, key }, "registry heartbeat failed; retrying");
    }
    schedule();
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      beating = beat();
    }, everyMs);
    timer.unref(); // the server (or whatever registered) keeps the process alive, not its heartbeat
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await beating;
    },
  };
}
