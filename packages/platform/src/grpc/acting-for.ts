// Object-level authorization's first question: on whose behalf does this call act? The access table (access.ts)
// says who may call a method at all; this says whose orders, say, the call may read or change. Order asks it.
import type { CallContext } from "./call-context.js";

/** Whose data the current call may act on. */
export type ActingFor =
  /** Anyone's: the learner's mode (every local caller is trusted), an admin, or the gateway for an admin. */
  | { kind: "anyone" }
  /** One consumer's only: the gateway for a signed-in consumer, or a learner (as the consumer its certificate names). */
  | { kind: "consumer"; consumerId: string }
  /** No one's: a caller that speaks for no end user (the gateway without a claim, a service, a courier). */
  | { kind: "nobody" };

/**
 * Whose data `call` may act on, from its peer and its forwarded end user (handler.ts sets both in the secure
 * mode). No peer means the learner's mode: anyone. An admin certificate, or the gateway forwarding an admin,
 * acts for anyone; the gateway forwarding a consumer acts for that consumer, and without a claim for nobody;
 * a learner's certificate acts for the consumer it is named after; any other caller for nobody.
 */
export function actingFor(call: CallContext | undefined): ActingFor {
  const peer = call?.peer;
  if (!peer) return { kind: "anyone" };
  switch (peer.role) {
    case "admin":
      return { kind: "anyone" };
    case "gateway": {
      const user = call.endUser;
      if (!user) return { kind: "nobody" };
      return user.role === "admin" ? { kind: "anyone" } : { kind: "consumer", consumerId: user.subject };
    }
    case "learner":
      return { kind: "consumer", consumerId: peer.name };
    default:
      return { kind: "nobody" };
  }
}
