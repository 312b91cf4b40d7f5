// Who is calling, in the secure mode: the identity the mesh CA wrote into the caller's client certificate
// (scripts/pki.sh: /O=ftgo/OU=<role>/CN=<name>). grpc-js has already verified the certificate against the CA
// during the TLS handshake; this only reads the names out of it.
import type { PeerCertificate } from "node:tls";

/** What grpc-js tells of a call's connection (`call.getAuthContext()`); its own type is not exported. */
export interface AuthContext {
  readonly sslPeerCertificate?: PeerCertificate;
}

/** A verified caller of the mesh: the name and role its certificate carries. */
export interface MeshPeer {
  /** The certificate's CN: "order", "gateway", "c-1001", "admin". */
  readonly name: string;
  /** The certificate's OU: "service", "gateway", "courier", "learner", "admin", "broker". */
  readonly role: string;
}

/**
 * The peer of a call from its connection's auth context: undefined on a plaintext connection (the learner's
 * mode), or when the certificate names no CN or OU (the access table then has nothing to admit it by).
 */
export function peerOf(auth: AuthContext): MeshPeer | undefined {
  const subject = auth.sslPeerCertificate?.subject;
  if (!subject) return undefined;
  const name = single(subject.CN);
  const role = single(subject.OU);
  return name && role ? { name, role } : undefined;
}

/** Node gives a repeated subject field as an array: a certificate with two CNs names nobody. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** "kitchen (service)": how logs and errors name a peer. */
export function describePeer(peer: MeshPeer | undefined): string {
  return peer ? `${peer.name} (${peer.role})` : "an unidentified caller";
}
