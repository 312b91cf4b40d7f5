// Who the gateway calls the mesh for, in the secure mode: the caller it verified at the edge, told to the
// services behind it as a short-lived claim signed with the gateway's mesh key (platform's signEndUser), in
// the ftgo-end-user header of every call made for that caller. Order decides from it whose orders a call may
// touch. In the learner's mode (no mesh TLS) there is no claim and no header: services trust every caller.
import { END_USER_HEADER, type EndUser, type MeshTls, signEndUser } from "@ftgo/platform";
import { LRUCache } from "lru-cache";
import type { Caller } from "./tokens.js";

/** How long a signed claim is valid (seconds): long enough for a slow call to start, short enough to be worthless if it leaks. */
export const END_USER_CLAIM_TTL_SECONDS = 60;
/**
 * A claim is reused for its lifetime less this margin, so that one sent is never about to expire: it is
 * checked when a call starts, and a retried or queued call may start a few seconds after it was made.
 */
export const END_USER_CLAIM_MARGIN_SECONDS = 15;

/** The identity the dashboard calls the mesh as: its every route is an admin's (dashboard/session.ts). */
export const DASHBOARD_ADMIN: EndUser = { role: "admin", subject: "dashboard" };

/** The headers that carry one end user's claim; empty in the learner's mode and for anonymous callers. */
export type EndUserHeaders = Readonly<Record<string, string>>;

export interface EndUserClaims {
  /** Headers to put on every backend call made for `who`: its signed claim, fresh or reused. */
  headersFor(who: Caller | EndUser): Promise<EndUserHeaders>;
}

export interface EndUserClaimsOptions {
  /** Callers whose claims are kept at once, least recently used out first (default 10000). */
  readonly maxEntries?: number;
  /** The clock the kept claims expire by (ms); tests move it by hand. */
  readonly now?: () => number;
}

const NONE: EndUserHeaders = Object.freeze({});

/**
 * The claims of the gateway's callers, signed with `tls` (the gateway's mesh certificate's key); without it,
 * the learner's mode, no claims. Signing is an ECDSA signature per claim: each caller's is kept and reused
 * for a little less than its lifetime, so that a busy caller costs one signature a minute, not one per call.
 */
export function createEndUserClaims(tls: MeshTls | undefined, options: EndUserClaimsOptions = {}): EndUserClaims {
  if (!tls) return { headersFor: async () => NONE };
  const reuseMs = (END_USER_CLAIM_TTL_SECONDS - END_USER_CLAIM_MARGIN_SECONDS) * 1000;
  // The promise is kept, not the token: concurrent calls of one caller wait for one signature.
  const kept = new LRUCache<string, Promise<EndUserHeaders>>({
    max: options.maxEntries ?? 10_000,
    ttl: reuseMs,
    ttlAutopurge: false,
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  return {
    headersFor(who) {
      if (who.role === "anonymous") return Promise.resolve(NONE);
      const user: EndUser = { role: who.role, subject: who.subject };
      const key = `${user.role}:${user.subject}`;
      let headers = kept.get(key);
      if (!headers) {
        headers = signEndUser(user, tls, END_USER_CLAIM_TTL_SECONDS).then((token) => ({ [END_USER_HEADER]: token }));
        kept.set(key, headers);
        // A failed signature is not kept: the next call tries again.
        headers.catch(() => kept.delete(key));
      }
      return headers;
    },
  };
}
