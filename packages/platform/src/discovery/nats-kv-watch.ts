// Client-side discovery over the NATS KV registry: listing a service's entries, and watching them.
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvEntry, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import { readInstance, type ServiceInstance } from "./service-instance.js";

/** One entry as read back: the revision orders it against what a watcher has already reported. */
interface ListedEntry {
  readonly key: string;
  readonly revision: number;
  readonly instance: ServiceInstance;
}

/** Where a service's keys are listed from: the bucket's stream, and the subject prefix of its keys. */
export interface KeySource {
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly subjectPrefix: string;
}

/** The KV bucket `bucket`'s stream, as KeySource. */
export function keySource(jsm: JetStreamManager, bucket: string): KeySource {
  return { jsm, stream: `KV_${bucket}`, subjectPrefix: `$KV.${bucket}.` };
}

/**
 * The live entries of `service`: keys `<service>.*`, each read at its latest revision.
 *
 * The keys come from the stream's subject state (one STREAM.INFO request filtered on the service),
 * not from `kv.keys()`: that one opens a consumer and waits for the message the server said was
 * pending, and when the bucket's TTL drops that message first it waits for the consumer's idle
 * heartbeat, 30 s. A key listed here whose entry expires before it is read reads as absent.
 */
export async function listEntries(kv: KV, source: KeySource, service: string, log: Logger): Promise<ListedEntry[]> {
  const { stream, subjectPrefix, jsm } = source;
  const info = await jsm.streams.info(stream, { subjects_filter: `${subjectPrefix}${service}.*` });
  const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(subjectPrefix.length));
  const entries = await Promise.all(keys.map((key) => kv.get(key)));
  return entries.flatMap((entry) => {
    if (entry?.operation !== "PUT") return []; // expired, or deleted since it was listed
    const instance = readEntry(entry, log);
    return instance ? [{ key: entry.key, revision: entry.revision, instance }] : [];
  });
}

export interface WatchServiceOptions {
  readonly nc: NatsConnection;
  readonly kv: KV;
  readonly keys: KeySource;
  readonly service: string;
  /** How often to re-list: at most half the bucket's TTL. */
  readonly relistMs: number;
  /** Receives the whole list after every change; onListChange filters out the non-changes. */
  readonly report: (instances: readonly ServiceInstance[]) => void;
  readonly log: Logger;
}

/**
 * Watches one service's entries: the KV watcher reports puts, deletes and purges as they happen. It
 * cannot report expiry: on NATS 2.9 (and on later servers unless the bucket has delete markers) an
 * entry that outlives the TTL is dropped from the stream silently, with no message for a watcher to
 * see. So the watch also re-lists the service every `relistMs` (half the TTL): a crashed instance
 * leaves the watched list at most 1.5 × TTL after its last heartbeat, at the first re-list after the
 * server dropped it. Lookups do not have this lag; they list what the server holds now.
 *
 * Watcher and re-list may report one key out of order (a re-list reads a value, a delete arrives, then
 * the re-list returns); revisions, which are stream sequences, settle it: the later one wins.
 */
export function watchService({ nc, kv, keys, service, relistMs, report, log }: WatchServiceOptions): { stop(): void } {
  /** Per key, the newest revision seen and its instance; undefined for a delete, so an older read cannot revive it. */
  const known = new Map<string, { revision: number; instance: ServiceInstance | undefined }>();
  let listed = false; // the current list goes first: nothing is reported before the first re-list
  let stopped = false;
  let watcher: QueuedIterator<KvWatchEntry> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const learn = (key: string, revision: number, instance: ServiceInstance | undefined) => {
    const seen = known.get(key);
    if (!seen || seen.revision < revision) known.set(key, { revision, instance });
  };
  const publish = () => {
    if (!listed || stopped) return;
    report([...known.values()].flatMap(({ instance }) => (instance ? [instance] : [])));
  };

  const follow = async () => {
    const updates = await kv.watch({ key: `${service}.*` });
    if (stopped) return updates.stop();
    watcher = updates;
    void (async () => {
      for await (const entry of updates) {
        learn(entry.key, entry.revision, entry.operation === "PUT" ? readEntry(entry, log) : undefined);
        publish();
      }
    })()
      .catch((err: unknown) => log.warn({ err }, "registry watcher failed; restarting"))
      .finally(() => {
        if (watcher === updates) watcher = undefined; // the next round starts a new one
      });
  };
  const relist = async () => {
    const before = new Map([...known].map(([key, { revision }]) => [key, revision]));
    const entries = await listEntries(kv, keys, service, log);
    for (const { key, revision, instance } of entries) learn(key, revision, instance);
    const present = new Set(entries.map(({ key }) => key));
    for (const [key, { revision }] of known) {
      // Absent now and unchanged while we listed: expired or deleted. A key the watcher moved on
      // during the listing is newer than the listing and stays.
      if (!present.has(key) && before.get(key) === revision) known.delete(key);
    }
    listed = true;
    publish();
  };
  const round = async () => {
    try {
      if (!watcher) await follow(); // before listing, so that no change falls between the two
      await relist();
    } catch (err) {
      if (stopped) return; // a read cut short by our own stop (NATS draining): nothing went wrong
      if (nc.isClosed()) {
        log.warn("NATS connection closed; registry watch stopped");
        return;
      }
      log.warn({ err }, "could not read the service registry; retrying");
    }
    if (stopped) return;
    timer = setTimeout(() => void round(), relistMs);
    timer.unref();
  };

  void round();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      watcher?.stop();
    },
  };
}

function readEntry(entry: KvEntry, log: Logger): ServiceInstance | undefined {
  const instance = readInstance(() => entry.json(), { key: entry.key, revision: entry.revision }, log);
  if (instance && keyOf(instance) !== entry.key) {
    log.warn({ key: entry.key, instanceId: instance.id }, "skipping a service registry entry filed under another key");
    return undefined;
  }
  return instance;
}

/** An instance's key in the registry bucket: `<service>.<instanceId>`, so `<service>.*` lists a service. */
export function keyOf(instance: ServiceInstance): string {
  return `${instance.service}.${instance.id}`;
}
