// Who may call which method in the secure mode: proto/access.json, the mesh's one access table (read its
// $comment), compiled once and asked per call. Imported as JSON so that esbuild bundles it into each service
// (scripts/build-services.ts) and tsx reads it in development: the table a service enforces is the one it was
// built with, never a file it must find at run time.
import table from "../../../../proto/access.json" with { type: "json" };
import type { EndUser } from "./end-user.js";
import type { MeshPeer } from "./peer.js";

/** A certificate role (OU) as scripts/pki.sh issues them; any other word of the table is a certificate name (CN). */
export const MESH_ROLES = ["service", "gateway", "courier", "admin", "learner", "broker"] as const;

/** The entry that admits the gateway only while it forwards an admin's end-user claim (the dashboard). */
export const GATEWAY_AS_ADMIN = "gateway as admin";
/** The entry that admits any certificate of the mesh CA. */
export const ANY_PEER = "*";

/** Who may call, per method path: `pkg.Service/Method` or `pkg.Service/*`. */
export type AccessTable = Readonly<Record<string, readonly string[]>>;

/** The table this process enforces: proto/access.json's "methods". */
export const ACCESS_TABLE: AccessTable = checkTable(table.methods);

/**
 * The entries that govern `methodPath` ("/pkg.Service/Method" or without the leading slash): the method's own
 * entry if it has one, else its service's "pkg.Service/*", else undefined (the method is closed to everyone).
 */
export function accessRule(methodPath: string, access: AccessTable = ACCESS_TABLE): readonly string[] | undefined {
  const path = methodPath.startsWith("/") ? methodPath.slice(1) : methodPath;
  const slash = path.lastIndexOf("/");
  return access[path] ?? (slash > 0 ? access[`${path.slice(0, slash)}/*`] : undefined);
}

/**
 * Whether `peer` (with the end user it forwards, if any) may call `methodPath` in the secure mode. An entry
 * admits the peer when it is "*", the peer's role, the peer's name, or "gateway as admin" and the peer is the
 * gateway forwarding an admin's claim. A name admits only a mesh identity, never a learner (a learner names
 * its own certificate). A method without an entry, or a call without a peer, is denied.
 */
export function mayCall(
  methodPath: string,
  peer: MeshPeer | undefined,
  endUser: EndUser | undefined,
  access: AccessTable = ACCESS_TABLE,
): boolean {
  if (!peer) return false;
  const rule = accessRule(methodPath, access);
  return rule?.some((entry) => admits(entry, peer, endUser)) ?? false;
}

function admits(entry: string, peer: MeshPeer, endUser: EndUser | undefined): boolean {
  if (entry === ANY_PEER) return true;
  if (entry === GATEWAY_AS_ADMIN) return peer.role === "gateway" && endUser?.role === "admin";
  if (isRole(entry)) return peer.role === entry;
  return peer.name === entry && peer.role !== "learner";
}

function isRole(entry: string): boolean {
  return (MESH_ROLES as readonly string[]).includes(entry);
}

/** Fails at start-up, naming the entry, if the table is not a map of method paths to lists of callers. */
function checkTable(methods: unknown): AccessTable {
  if (typeof methods !== "object" || methods === null) {
    throw new Error('proto/access.json: "methods" must map method paths to lists of callers');
  }
  for (const [path, callers] of Object.entries(methods)) {
    if (!/^[\w.]+\/(\w+|\*)$/.test(path)) {
      throw new Error(`proto/access.json: "${path}" is no "pkg.Service/Method" or "pkg.Service/*"`);
    }
    if (!Array.isArray(callers) || callers.some((caller) => typeof caller !== "string" || caller === "")) {
      throw new Error(`proto/access.json: the callers of "${path}" must be a list of names`);
    }
  }
  return methods as AccessTable;
}
