// The secure mode's gate in front of every method a server serves (its own services, health, reflection,
// AdminService alike): a grpc-js server interceptor, so that nothing registered on the server can be reached
// around it. It reads the caller's identity from the verified client certificate (peer.ts), trusts a forwarded
// end-user claim only from the gateway and only with the gateway's signature (end-user.ts), and asks the access
// table (access.ts) before the call reaches its handler. handler.ts then finds who called through callerOf.
import {
  Metadata,
  type MetadataValue,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status as Status,
  type StatusObject,
} from "@grpc/grpc-js";
import type { Logger } from "../log.js";
import { mayCall } from "./access.js";
import { END_USER_HEADER, type EndUser, EndUserClaimError, verifyEndUser } from "./end-user.js";
import { describePeer, type MeshPeer, peerOf } from "./peer.js";

/** Who made a call that the guard let through: the verified peer and the end user it speaks for, if any. */
export interface MeshCaller {
  readonly peer: MeshPeer;
  readonly endUser?: EndUser;
}

// grpc-js hands the handler the very Metadata object the interceptor passed on, so it is the call's key here.
const callers = new WeakMap<Metadata, MeshCaller>();

/** The caller the guard admitted for the call whose request metadata this is; undefined in the learner's mode. */
export function callerOf(metadata: Metadata): MeshCaller | undefined {
  return callers.get(metadata);
}

/**
 * A server interceptor that admits a call only if the access table lets its caller call its method: otherwise
 * PERMISSION_DENIED naming both ("kitchen (service) may not call ftgo.order.v1.OrderService/CreateOrder"),
 * logged at warn. An end-user claim from the gateway that does not verify ends the call UNAUTHENTICATED; one
 * from any other peer is dropped from the metadata, unread. For a server with mTLS only (server.ts).
 */
export function createAccessGuard(log: Logger): ServerInterceptor {
  return (descriptor, next) => {
    const method = descriptor.path.replace(/^\//, "");
    const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
      start: (startNext) =>
        startNext({
          onReceiveMetadata(metadata, pass) {
            admit(method, next, metadata, log).then(
              (caller) => {
                callers.set(metadata, caller);
                pass(metadata);
              },
              (thrown: unknown) => call.sendStatus(statusOf(thrown, method, log)),
            );
          },
        }),
    });
    return call;
  };
}

/** Resolves with the caller when it may call `method`; rejects with the Refusal that turns it away. */
async function admit(
  method: string,
  call: ServerInterceptingCallInterface,
  metadata: Metadata,
  log: Logger,
): Promise<MeshCaller> {
  const auth = call.getAuthContext();
  const peer = peerOf(auth);
  if (!peer) {
    log.warn({ method }, "call refused: the client certificate names no CN and OU");
    throw refusal(Status.PERMISSION_DENIED, `a certificate without a name (CN) and role (OU) may not call ${method}`);
  }
  const endUser = await endUserOf(peer, auth.sslPeerCertificate?.raw, metadata, method, log);
  if (!mayCall(method, peer, endUser)) {
    const who = endUser ? `${describePeer(peer)} for ${endUser.role} ${endUser.subject}` : describePeer(peer);
    log.warn(
      { method, peer: peer.name, role: peer.role, endUser: endUser?.subject },
      "call refused by the access table",
    );
    throw refusal(Status.PERMISSION_DENIED, `${who} may not call ${method}`);
  }
  return endUser ? { peer, endUser } : { peer };
}

/** The end user the gateway forwards, verified; undefined when there is none or the peer is not the gateway. */
async function endUserOf(
  peer: MeshPeer,
  certificate: Buffer | undefined,
  metadata: Metadata,
  method: string,
  log: Logger,
): Promise<EndUser | undefined> {
  const token = firstString(metadata.get(END_USER_HEADER));
  if (token === undefined) return undefined;
  if (peer.role !== "gateway" || !certificate) {
    // Only the gateway speaks for end users; anyone else's claim is dropped, so no handler can mistake it.
    metadata.remove(END_USER_HEADER);
    log.debug({ method, peer: peer.name }, "end-user claim from a peer other than the gateway ignored");
    return undefined;
  }
  try {
    return await verifyEndUser(token, certificate, peer.name);
  } catch (error) {
    if (!(error instanceof EndUserClaimError)) throw error;
    log.warn({ method, peer: peer.name, reason: error.message }, "call refused: end-user claim not valid");
    throw refusal(Status.UNAUTHENTICATED, `${error.message} (${describePeer(peer)} calling ${method})`);
  }
}

/** Why the guard turned a call away: the status the caller gets. */
class Refusal extends Error {
  override readonly name = "Refusal";
  constructor(
    readonly code: Status,
    readonly details: string,
  ) {
    super(details);
  }
}

function refusal(code: Status, details: string): Refusal {
  return new Refusal(code, details);
}

/** A refusal as its status; anything else the guard did not expect is logged and answered INTERNAL. */
function statusOf(thrown: unknown, method: string, log: Logger): StatusObject {
  if (thrown instanceof Refusal) return { code: thrown.code, details: thrown.details, metadata: new Metadata() };
  log.error({ method, err: thrown }, "the access guard failed");
  return { code: Status.INTERNAL, details: "the server could not check the caller's access", metadata: new Metadata() };
}

function firstString(values: MetadataValue[]): string | undefined {
  const first = values[0];
  return typeof first === "string" && first !== "" ? first : undefined;
}
