// A service instance: one running copy of a service at one network location. Self-registration writes
// it into the service registry; client-side discovery reads it back. What comes back is data another
// process wrote, perhaps an older or broken one, so it is checked field by field before anyone dials it.
import type { Logger } from "../log.js";

export interface ServiceInstance {
  /** The service's name, the same for all its instances: "order", "kitchen". */
  readonly service: string;
  /** Unique among all instances of all services: "kitchen-3f9c2a1b". */
  readonly id: string;
  /** Host or IP address that clients dial. */
  readonly address: string;
  readonly port: number;
  /** The version the instance runs: clients may prefer or avoid some. */
  readonly version: string;
  readonly tags: readonly string[];
}

/** An instance that cannot be registered, or a registry entry that cannot be used; `problems` says why. */
export class InvalidInstanceError extends Error {
  override readonly name = "InvalidInstanceError";
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid service instance: ${problems.join("; ")}`, options);
  }
}

/**
 * Service names and instance ids become one token of a NATS KV key (`<service>.<id>`) and a Consul
 * service name or id, so they keep to the characters all of those accept: no dots, no spaces.
 */
const NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks that `value` is a usable service instance and returns a frozen copy holding only the known
 * fields. Self-registration calls it before writing to the service registry, and client-side discovery
 * after reading, so a typo in one service cannot send another's calls to nowhere. Throws
 * InvalidInstanceError naming every problem at once.
 */
export function validateInstance(value: unknown): ServiceInstance {
  if (typeof value !== "object" || value === null) throw new InvalidInstanceError(["not an object"]);
  const { service, id, address, port, version, tags } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof service !== "string" || !NAME.test(service)) problems.push(`service ${show(service)} is not a name`);
  if (typeof id !== "string" || !NAME.test(id)) problems.push(`id ${show(id)} is not a name`);
  if (typeof address !== "string" || address === "" || /\s/.test(address)) {
    problems.push(`address ${show(address)} is not a host`);
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`port ${show(port)} is not from 1 to 65535`);
  }
  if (typeof version !== "string" || version === "") problems.push(`version ${show(version)} is not a string`);
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) {
    problems.push(`tags ${show(tags)} is not a list of strings`);
  }
  if (problems.length > 0) throw new InvalidInstanceError(problems);
  return Object.freeze({
    service: service as string,
    id: id as string,
    address: address as string,
    port: port as number,
    version: version as string,
    tags: Object.freeze([...(tags as string[])]),
  });
}

/** Throws InvalidInstanceError unless `service` can name a service in every registry. */
export function assertServiceName(service: string): void {
  if (!NAME.test(service)) throw new InvalidInstanceError([`service ${show(service)} is not a name`]);
}

/**
 * Reads one service registry entry for client-side discovery: the instance, or undefined when the entry
 * is malformed. A bad entry is logged with `where` (its key or id) and skipped, never thrown: one broken
 * writer must not take discovery down for every healthy instance beside it.
 */
export function readInstance(
  raw: () => unknown,
  where: Record<string, unknown>,
  log: Logger,
): ServiceInstance | undefined {
  try {
    return validateInstance(raw());
  } catch (err) {
    log.warn({ ...where, err }, "skipping a malformed service registry entry");
    return undefined;
  }
}

/**
 * Wraps a watch listener so that it hears only real changes, in a stable order (by id): registries
 * report heartbeats and unrelated index bumps too, and a load balancer should not rebuild its picker
 * for those. A listener that throws is logged (give `log` the watched service as a field); it cannot
 * stop the watch.
 */
export function onListChange(
  onChange: (instances: ServiceInstance[]) => void,
  log: Logger,
): (instances: readonly ServiceInstance[]) => void {
  let last: string | undefined;
  return (instances) => {
    const sorted = [...instances].sort(byId);
    const seen = JSON.stringify(sorted);
    if (seen === last) return;
    last = seen;
    try {
      onChange(sorted);
    } catch (err) {
      log.error({ err }, "a service registry watch listener threw");
    }
  };
}

/** Orders instances by id, so that every lookup and watch of one registry lists them alike. */
export function byId(a: ServiceInstance, b: ServiceInstance): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function show(value: unknown): string {
  return value === undefined ? "(missing)" : JSON.stringify(value);
}
