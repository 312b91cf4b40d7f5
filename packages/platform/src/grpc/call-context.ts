import { AsyncLocalStorage } from "node:async_hooks";
import type { EndUser } from "./end-user.js";
import type { MeshPeer } from "./peer.js";

/** The metadata key that carries one request's id through every service it touches. */
export const REQUEST_ID_HEADER = "x-request-id";

/** What code running on behalf of an incoming call may need to know about that call. */
export interface CallContext {
  /** Taken from the caller's `x-request-id`, or generated when the caller sent none. */
  readonly requestId: string;
  /** When the caller stops waiting, in epoch milliseconds; undefined when it set no deadline. */
  readonly deadline: number | undefined;
  /** Aborts at the deadline, when the caller cancels, and when the call is over. */
  readonly signal: AbortSignal;
  /** Secure mode: the caller, from its verified client certificate. Undefined in the learner's mode. */
  readonly peer?: MeshPeer;
  /** Secure mode: the end user the gateway signed a claim for, when it forwarded one (see actingFor). */
  readonly endUser?: EndUser;
}

const storage = new AsyncLocalStorage<CallContext>();

/**
 * The incoming call the current code runs for, or undefined outside a gRPC handler. The client reads it
 * so that a handler's outgoing calls inherit its request id, its remaining deadline and its
 * cancellation without every handler passing them along by hand.
 */
export function currentCall(): CallContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` as part of `call`, so that `currentCall()` returns it in `fn` and in everything `fn`
 * starts, across awaits. The server adapter starts calls with it; the mesh client uses it to give a call
 * that waited in a bulkhead queue back its own context (it is resumed by whichever call freed the slot).
 */
export function runInCall<T>(call: CallContext | undefined, fn: () => T): T {
  // `undefined` runs fn outside any call: code started on behalf of nobody must not inherit a stranger's.
  return storage.run(call as CallContext, fn);
}
