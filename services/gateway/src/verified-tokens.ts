// A memo of verified tokens: a signature verification per request is most of what authentication costs, and
// a client sends the same token for as long as it lives. An entry never outlives its token (a token found
// after its expiry is forgotten and verified again, which refuses it), and the memo is bounded, oldest out.
/** `T`: what a token proves (the caller, in tokens.ts); generic so that this file needs nothing of that one. */
export interface VerifiedTokens<T> {
  /** The caller `token` was verified as, while the token has not expired; else undefined. */
  get(token: string): T | undefined;
  /** Remembers `token` as `caller` until `expiresAtMs` (epoch ms). */
  remember(token: string, caller: T, expiresAtMs: number): void;
  readonly size: number;
}

export function createVerifiedTokens<T>(max: number, now: () => number = Date.now): VerifiedTokens<T> {
  const entries = new Map<string, { caller: T; expiresAtMs: number }>();
  return {
    get size() {
      return entries.size;
    },
    get(token) {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.expiresAtMs > now()) return entry.caller;
      entries.delete(token);
      return undefined;
    },
    remember(token, caller, expiresAtMs) {
      if (expiresAtMs <= now()) return;
      entries.delete(token);
      entries.set(token, { caller, expiresAtMs });
      // A Map iterates in insertion order: the first key is the oldest entry.
      while (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
  };
}
