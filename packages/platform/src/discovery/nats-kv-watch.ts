// Client-side discovery over the NATS KV registry: listing a service's entries, and watching them.
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvEntry, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import { createOutageLog } from "./outage-log.js";
import type { HostCheck } from "./registry-hosts.js";
import { readInstance, type ServiceInstance } from "./service-instance.js";

/** One entry as read back: the revision orders it against what a watcher has already reported. */
interface ListedEntry {
  readonly key: string;
  readonly revision: number;
  readonly instance: ServiceInstance;
}

/**
 * Where a service's keys are listed from: the bucket's stream, and the subject prefix of its keys; and which of
 * the instances read there may be dialled (registry-hosts.ts).
 */
export interface KeySource {
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly admits: HostCheck;
}

/** The KV bucket `bucket`'s stream, as KeySource, admitting the instances `admits` allows (default: all). */
export function keySource(jsm: JetStreamManager, bucket: string, admits: HostCheck = () => true): KeySource {
  return { jsm, stream: `KV_${bucket}`, subjectPrefix: `$KV.${bucket}.`, admits };
}

/** A service's live entries, and which incarnation of the bucket's stream they were read from. */
export interface Listing {
  /**
   * When the stream was created. A bucket that was deleted and created again starts its revisions
   * from 1 again, so revisions compare only within one incarnation.
   */
  readonly streamCreated: string;
  readonly entries: ListedEntry[];
}

/**
 * The live entries of `service`: keys `<service>.*`, each read at its latest revision.
 *
 * The keys come from the stream's subject state (one STREAM.INFO request filtered on the service),
 * not from `kv.keys()`: that one opens a consumer and waits for the message the server said was
 * pending, and when the bucket's TTL drops that message first it waits for the consumer's idle
 * heartbeat, 30 s. A key listed here whose entry expires before it is read reads as absent.
 */
export async function listEntries(kv: KV, source: KeySource, service: string, log: Logger): Promise<Listing> {
  const { stream, subjectPrefix, jsm } = source;
  const info = await jsm.streams.info(stream, { subjects_filter: `${subjectPrefix}${service}.*` });
  if (!info.config.subjects.includes(`${subjectPrefix}>`)) {
    throw new Error(`stream ${stream} is not the registry bucket: it does not hold ${subjectPrefix}>`);
  }
  const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(subjectPrefix.length));
  const read = await Promise.all(keys.map((key) => kv.get(key)));
  const entries = read.flatMap((entry) => {
    if (entry?.operation !== "PUT") return []; // expired, or deleted since it was listed
    const instance = readEntry(entry, log, source.admits);
    return instance ? [{ key: entry.key, revision: entry.revision, instance }] : [];
  });
  return { streamCreated: info.created, entries };
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
 *
 * The bucket may go away under the watch (its stream deleted) and come back when an instance's heartbeat
 * recreates it. The KV watcher does not notice: it neither ends nor follows the new stream. So a failed
 * round drops the watcher, and a re-list that finds another incarnation of the stream than the one it
 * knows forgets the old revisions and starts a new watcher: the watched list carries on with the
 * instances as they register again. Until then it keeps the last list it had, and the log says once
 * that the registry cannot be read and once that it can again.
 */
export function watchService({ nc, kv, keys, service, relistMs, report, log }: WatchServiceOptions): { stop(): void } {
  /** Per key, the newest revision seen and its instance; undefined for a delete, so an older read cannot revive it. */
  const known = new Map<string, { revision: number; instance: ServiceInstance | undefined }>();
  /** The incarnation of the bucket's stream that `known`'s revisions come from. */
  let stream: string | undefined;
  let listed = false; // the current list goes first: nothing is reported before the first re-list
  let stopped = false;
  let watcher: QueuedIterator<KvWatchEntry> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const outage = createOutageLog(log, {
    failing: "could not read the service registry; retrying every re-list, quietly until it recovers",
    recovered: "service registry readable again",
  });

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
        learn(entry.key, entry.revision, entry.operation === "PUT" ? readEntry(entry, log, keys.admits) : undefined);
        publish();
      }
    })()
      .catch((err: unknown) => log.warn({ err }, "registry watcher failed; restarting"))
      .finally(() => {
        if (watcher === updates) watcher = undefined; // the next round starts a new one
      });
  };
  const unfollow = () => {
    watcher?.stop();
    watcher = undefined;
  };
  /** Lists the service; false (having listed nothing) when the stream is another than the known one. */
  const relist = async (): Promise<boolean> => {
    const before = new Map([...known].map(([key, { revision }]) => [key, revision]));
    const { streamCreated, entries } = await listEntries(kv, keys, service, log);
    if (stream !== undefined && streamCreated !== stream) {
      stream = streamCreated;
      known.clear();
      listed = false; // nothing is reported until the new stream has been listed whole
      return false;
    }
    stream = streamCreated;
    for (const { key, revision, instance } of entries) learn(key, revision, instance);
    const present = new Set(entries.map(({ key }) => key));
    for (const [key, { revision }] of known) {
      // Absent now and unchanged while we listed: expired or deleted. A key the watcher moved on
      // during the listing is newer than the listing and stays.
      if (!present.has(key) && before.get(key) === revision) known.delete(key);
    }
    listed = true;
    publish();
    return true;
  };
  const round = async () => {
    try {
      if (!watcher) await follow(); // before listing, so that no change falls between the two
      if (!(await relist())) {
        // The bucket was recreated: the watcher follows a stream that is gone. Start over on the new one.
        unfollow();
        await follow();
        await relist();
      }
      outage.succeeded();
    } catch (err) {
      if (stopped) return; // a read cut short by our own stop (NATS draining): nothing went wrong
      if (nc.isClosed()) {
        log.warn("NATS connection closed; registry watch stopped");
        return;
      }
      unfollow(); // its stream may be gone; the next round starts a watcher on whatever is there then
      outage.failed(err);
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
      unfollow();
    },
  };
}

function readEntry(entry: KvEntry, log: Logger, admits: HostCheck): ServiceInstance | undefined {
  const instance = readInstance(() => entry.json(), { key: entry.key, revision: entry.revision }, log);
  if (instance && keyOf(instance) !== entry.key) {
    log.warn({ key: entry.key, instanceId: instance.id }, "skipping a service registry entry filed under another key");
    return undefined;
  }
  return instance && admits(instance, { key: entry.key }) ? instance : undefined;
}

/** An instance's key in the registry bucket: `<service>.<instanceId>`, so `<service>.*` lists a service. */
export function keyOf(instance: ServiceInstance): string {
  return `${instance.service}.${instance.id}`;
}
