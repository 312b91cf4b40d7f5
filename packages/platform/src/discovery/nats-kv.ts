// The embedded service registry: a JetStream key-value bucket on the NATS server the mesh already runs.
// Each instance's entry lives under `<service>.<instanceId>`, its value the instance as JSON. Health is
// liveness: the bucket has a TTL (its stream's max age), the owner re-puts its entry every heartbeat,
// and an instance that stops beating (crashed, frozen, cut off) vanishes when the TTL runs out. NATS
// 2.9 has no per-key TTL; the bucket's applies to every key alike.
import { setTimeout as sleep } from "node:timers/promises";
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import { createRegistryHandles } from "./handles.js";
import { keyOf, keySource, listEntries, watchService } from "./nats-kv-watch.js";
import { createOutageLog, reasonOf } from "./outage-log.js";
import { type Registry, RegistryUnavailableError } from "./registry.js";
import { createHostCheck, DEFAULT_ALLOWED_HOSTS } from "./registry-hosts.js";
import { assertServiceName, byId, onListChange, validateInstance } from "./service-instance.js";

/** The bucket every ftgo service registers in. Its stream is `KV_ftgo_registry`. */
export const REGISTRY_BUCKET = "ftgo_registry";

export interface NatsKvRegistryOptions {
  readonly nc: NatsConnection;
  /** The bucket's TTL when this call creates it. An existing bucket keeps its own (with a warning). */
  readonly ttlMs: number;
  /** How often registrations re-put their entries; lowered to a third of the bucket's TTL if above. */
  readonly heartbeatMs: number;
  /** The hosts an entry may name; entries naming others are skipped with a warning. Default DEFAULT_ALLOWED_HOSTS. */
  readonly allowedHosts?: readonly string[];
  /** Copies of the bucket's stream when this call creates it (config.streamReplicas). Default 1. */
  readonly replicas?: number;
  readonly log: Logger;
}

/**
 * Opens the NATS KV service registry, creating its bucket if no service has yet. Self-registration puts
 * the instance and re-puts it every heartbeat; deregistration deletes it; client-side discovery lists
 * the keys `<service>.*` and watches them. Several services may start at once: creating the bucket
 * with the same settings is idempotent, and one that loses the race with other settings opens the
 * winner's bucket.
 */
export async function createNatsKvRegistry({
  nc,
  ttlMs,
  heartbeatMs,
  allowedHosts = DEFAULT_ALLOWED_HOSTS,
  replicas = 1,
  log,
}: NatsKvRegistryOptions): Promise<Registry> {
  const bucket = await openBucket(nc, ttlMs, replicas, log);
  const { kv } = bucket;
  const hosts = createHostCheck(allowedHosts, log);
  const keys = keySource(await jetstreamManager(nc), REGISTRY_BUCKET, hosts.admits);
  const beatMs = Math.min(heartbeatMs, Math.floor(bucket.ttlMs / 3));
  const handles = createRegistryHandles(log);
  return {
    kind: "nats-kv",
    async register(candidate) {
      const instance = validateInstance(candidate);
      hosts.allow(instance.address); // this process's own advertised host
      const key = keyOf(instance);
      const value = JSON.stringify(instance);
      await putWhenReachable(kv, key, value);
      const heartbeat = startHeartbeat({ nc, bucket, key, value, everyMs: beatMs, log: log.child({ key }) });
      log.info({ key, ttlMs: bucket.ttlMs, heartbeatMs: beatMs }, "registered in the service registry");
      return handles.registration(instance, async () => {
        await heartbeat.stop();
        await kv.delete(key);
        log.info({ key }, "deregistered from the service registry");
      });
    },
    async lookup(service) {
      assertServiceName(service);
      try {
        const { entries } = await listEntries(kv, keys, service, log);
        return entries.map((entry) => entry.instance).sort(byId);
      } catch (cause) {
        throw new RegistryUnavailableError({ cause });
      }
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
        relistMs: Math.floor(bucket.ttlMs / 2),
        report,
        log: watchLog,
      });
      return handles.watch(() => watch.stop());
    },
    close: () => handles.close(),
  };
}

/** The registry's bucket as this client opened it, and how to create it again as it was. */
interface Bucket {
  readonly kv: KV;
  /** The bucket's TTL, which is this client's unless another service created the bucket first. */
  readonly ttlMs: number;
  /** Creates the bucket again with the settings it had; opens, unchanged, a stream that has its name. */
  recreate(): Promise<void>;
}

async function openBucket(nc: NatsConnection, ttlMs: number, replicas: number, log: Logger): Promise<Bucket> {
  const kvm = new Kvm(nc);
  // Only the latest value of a key matters to discovery, so no history is kept.
  const settings = { history: 1, description: "ftgo service registry", replicas };
  let kv: KV;
  try {
    // Opens the bucket if it exists, whatever its settings; creates it otherwise.
    kv = await kvm.create(REGISTRY_BUCKET, { ...settings, ttl: ttlMs });
  } catch (err) {
    // Lost a creation race to a service configured with another TTL: the stream now exists, use it.
    if (!(err instanceof JetStreamApiError)) throw err;
    kv = await kvm.open(REGISTRY_BUCKET);
  }
  const bucketTtlMs = (await kv.status()).ttl;
  if (bucketTtlMs !== ttlMs) {
    log.warn({ bucketTtlMs, configuredTtlMs: ttlMs }, "the registry bucket has another TTL; it wins");
  }
  return {
    kv,
    ttlMs: bucketTtlMs,
    // With the TTL the bucket had, not this client's: every service heals it to the same settings, so
    // that two of them healing at once create the same stream (adding an identical stream is a no-op).
    recreate: async () => void (await kvm.create(REGISTRY_BUCKET, { ...settings, ttl: bucketTtlMs })),
  };
}

/** How long register's first put waits for a new bucket to be reachable from this server (see putWhenReachable). */
const REACHABLE_WITHIN_MS = 5_000;

/**
 * Puts, retrying while nothing answers the bucket's subject. On a cluster (FTGO_STREAM_REPLICAS > 1), a bucket
 * created a moment ago has a stream whose interest reaches the other servers over the routes only shortly
 * after: a put through one of them meets no responders (nats.js reports "jetstream is not enabled"). A single
 * server answers at once, so this never waits there.
 */
async function putWhenReachable(kv: KV, key: string, value: string): Promise<void> {
  const deadline = Date.now() + REACHABLE_WITHIN_MS;
  for (;;) {
    try {
      await kv.put(key, value);
      return;
    } catch (err) {
      if (!(err instanceof Error && err.name === "JetStreamNotEnabled") || Date.now() >= deadline) throw err;
      await sleep(100); // the routes' interest update, not a synchronisation with anything of ours
    }
  }
}

interface HeartbeatOptions {
  readonly nc: NatsConnection;
  readonly bucket: Bucket;
  readonly key: string;
  readonly value: string;
  readonly everyMs: number;
  readonly log: Logger;
}

/**
 * Re-puts the entry every `everyMs`, each beat scheduled after the previous one ends so that a slow
 * broker never stacks puts. A beat that cannot put recreates the bucket and puts again: a bucket that
 * was deleted (by hand, or lost with a server's store) comes back at the next heartbeat of any instance,
 * and with it every instance's entry at its own next beat. A beat that still fails is retried at the
 * next one; the log says so once when the beats start failing and once when they succeed again. A
 * closed connection ends the heartbeat.
 */
function startHeartbeat({ nc, bucket, key, value, everyMs, log }: HeartbeatOptions) {
  const outage = createOutageLog(log, {
    failing: "registry heartbeat failing; retrying every heartbeat, quietly until it recovers",
    recovered: "registry recovered",
  });
  let stopped = false;
  let beating = Promise.resolve();
  let timer: NodeJS.Timeout;
  const renew = async () => {
    try {
      await bucket.kv.put(key, value);
    } catch (putError) {
      try {
        await bucket.recreate();
      } catch (createError) {
        throw new Error(`${reasonOf(putError)}; recreating the bucket failed: ${reasonOf(createError)}`, {
          cause: createError,
        });
      }
      await bucket.kv.put(key, value);
      log.info("registry heartbeat put failed; recreated the bucket (a no-op if it was there) and renewed the entry");
    }
  };
  const beat = async () => {
    try {
      await renew();
      outage.succeeded();
    } catch (err) {
      if (nc.isClosed()) {
        log.warn("NATS connection closed; registry heartbeat stopped");
        return;
      }
      outage.failed(err);
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
