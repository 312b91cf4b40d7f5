// Which hosts a registry entry may send calls to. In the learner's mode the NATS KV registry is open: any local
// process with a NATS client can put an entry, so one put could register a fake Kitchen anywhere. The broker cannot
// say who wrote an entry there, but discovery can at least refuse to dial what no instance of this mesh advertises:
// a host off the allowed list (by default this machine's names, and the process's own FTGO_ADVERTISE_HOST).
// The port is checked by validateInstance (a whole number from 1 to 65535).
import type { Logger } from "../log.js";
import type { ServiceInstance } from "./service-instance.js";

/** The hosts allowed when REGISTRY_ALLOWED_HOSTS is not set, besides the process's own FTGO_ADVERTISE_HOST. */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "::1"];

/** How many refused entries are remembered, to warn once about each rather than at every re-list. */
const REMEMBERED = 1_000;

/** Decides whether discovery may dial an instance read from the registry: true, or false after one warning. */
export type HostCheck = (instance: ServiceInstance, where: Record<string, unknown>) => boolean;

/** The allowed list of one registry client. */
export interface AllowedHosts {
  readonly admits: HostCheck;
  /** Adds a host: the registry adds the address of each instance this process registers, its own. */
  allow(host: string): void;
}

/**
 * A check of registry entries against `allowedHosts` (compared without case, IPv6 brackets dropped). An entry
 * whose address is not on the list is refused with one warn log naming the host and the list, once per distinct
 * entry (an entry re-put every heartbeat is not logged again).
 */
export function createHostCheck(allowedHosts: readonly string[], log: Logger): AllowedHosts {
  const allowed = new Set(allowedHosts.map(normalHost));
  const warned = new Set<string>();
  const admits: HostCheck = (instance, where) => {
    if (allowed.has(normalHost(instance.address))) return true;
    const seen = `${instance.service}.${instance.id}@${instance.address}:${instance.port}`;
    if (!warned.has(seen)) {
      if (warned.size >= REMEMBERED) warned.clear();
      warned.add(seen);
      log.warn(
        { ...where, instanceId: instance.id, host: instance.address, allowedHosts: [...allowed] },
        `skipping a service registry entry: its host ${instance.address} is not on the allowed list (REGISTRY_ALLOWED_HOSTS)`,
      );
    }
    return false;
  };
  return { admits, allow: (host) => void allowed.add(normalHost(host)) };
}

/** `[::1]` → `::1`, `LocalHost` → `localhost`: the form hosts are compared in. */
export function normalHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return bare.toLowerCase();
}

/**
 * Parses REGISTRY_ALLOWED_HOSTS, a comma-separated list of hosts: the hosts, or a problem saying what is wrong
 * with the value (an empty list, a host with spaces).
 */
export function parseAllowedHosts(text: string): { hosts: string[]; problem?: string } {
  const hosts = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  if (hosts.length === 0) return { hosts, problem: "REGISTRY_ALLOWED_HOSTS is set but names no host" };
  const bad = hosts.filter((host) => /\s/.test(host));
  if (bad.length > 0) {
    return {
      hosts,
      problem: `REGISTRY_ALLOWED_HOSTS: ${bad.map((host) => JSON.stringify(host)).join(", ")} is not a host`,
    };
  }
  return { hosts: hosts.map(normalHost) };
}
