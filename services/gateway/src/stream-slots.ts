// How many event streams each caller may hold open at once. A stream costs the gateway a connection and a
// gRPC stream to Order for as long as it lasts (up to SSE_MAX_MS), and a token's holder could open them
// by the thousand; so each caller gets a few slots, taken when a stream opens and given back when it closes.
import { GatewayError } from "./errors.js";

export interface StreamSlots {
  /** Takes one of `key`'s slots, or throws 429 when all are taken; the function gives it back (once). */
  take(key: string): () => void;
  /** Slots taken by `key` now. */
  taken(key: string): number;
}

export function createStreamSlots(maxPerCaller: number): StreamSlots {
  const open = new Map<string, number>();
  return {
    take(key) {
      const taken = open.get(key) ?? 0;
      if (taken >= maxPerCaller) {
        throw new GatewayError(
          429,
          "TOO_MANY_STREAMS",
          `this caller already has ${maxPerCaller} event streams open, the most allowed: close one first`,
        );
      }
      open.set(key, taken + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      };
    },
    taken: (key) => open.get(key) ?? 0,
  };
}
