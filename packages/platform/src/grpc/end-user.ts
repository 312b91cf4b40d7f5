// The end user a call is made for, in the secure mode. The gateway authenticates people at the edge; it tells
// the services behind it who they are in a short-lived JWT, signed with its own mesh key (ES256, the key of its
// TLS certificate), sent in the ftgo-end-user header. A server trusts that claim only from a peer whose
// certificate says "gateway", and checks the signature against that very certificate's public key, so a claim
// cannot be replayed by another caller nor forged without the gateway's private key.
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import type { MeshTls } from "../mesh-tls.js";

/**
 * jose, loaded on the first claim signed or checked: only the secure mode has claims, and loading it took
 * 20–35 ms of every service's start (every service's bundle imports this file, through the access guard).
 */
let jose: Promise<typeof import("jose")> | undefined;
const loadJose = () => (jose ??= import("jose"));

/** A person the gateway authenticated, as the services behind it see them. */
export interface EndUser {
  readonly role: "consumer" | "admin";
  /** Who they are: a consumer's id, or an admin's name. */
  readonly subject: string;
}

/** The metadata key that carries the signed end-user claim (a compact JWT). */
export const END_USER_HEADER = "ftgo-end-user";

/** The audience of every end-user claim: the mesh, so a claim made for anything else is refused. */
export const END_USER_AUDIENCE = "ftgo-mesh";

const ALGORITHM = "ES256";
const ROLES: readonly EndUser["role"][] = ["consumer", "admin"];

/** A claim that is not to be trusted: bad signature, expired, wrong audience or malformed. */
export class EndUserClaimError extends Error {
  override readonly name = "EndUserClaimError";
}

/**
 * Signs `user` as a JWT with this process's mesh private key (ES256): `sub` and `role` say who, `iss` is the
 * signer's certificate name, `aud` "ftgo-mesh", and it expires `ttlSeconds` from now. The gateway sends it as
 * `{ headers: { [END_USER_HEADER]: token } }` on its calls into the mesh.
 */
export async function signEndUser(user: EndUser, tls: MeshTls, ttlSeconds = 60): Promise<string> {
  const issuer = new X509Certificate(tls.cert).subject.match(/^CN=(.+)$/m)?.[1];
  if (!issuer) throw new Error("the mesh certificate has no CN to sign end-user claims as");
  const { SignJWT } = await loadJose();
  return new SignJWT({ role: user.role })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(user.subject)
    .setIssuer(issuer)
    .setAudience(END_USER_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(privateKeyOf(tls.key));
}

/**
 * Verifies `token` against the public key of `signerCert` (DER, the calling peer's certificate) and returns the
 * end user it names. Rejects with EndUserClaimError saying what is wrong: forged, expired, not for the mesh,
 * not issued by `signerName`, or naming no known role.
 */
export async function verifyEndUser(token: string, signerCert: Buffer, signerName: string): Promise<EndUser> {
  const { errors, jwtVerify } = await loadJose();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, publicKeyOf(signerCert), {
      algorithms: [ALGORITHM],
      audience: END_USER_AUDIENCE,
      issuer: signerName,
      requiredClaims: ["exp", "sub"],
    }));
  } catch (error) {
    throw new EndUserClaimError(`the end-user claim is not valid: ${reasonOf(error, errors)}`, { cause: error });
  }
  const { role, sub } = payload;
  if (!ROLES.includes(role as EndUser["role"]) || typeof sub !== "string" || sub === "") {
    throw new EndUserClaimError(`the end-user claim names no known role and subject (role ${String(role)})`);
  }
  return { role: role as EndUser["role"], subject: sub };
}

function reasonOf(error: unknown, joseErrors: typeof import("jose").errors): string {
  if (error instanceof joseErrors.JWTExpired) return "it has expired";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "its signature is not the caller's";
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `its "${error.claim}" claim is wrong (${error.reason})`;
  return error instanceof Error ? error.message : String(error);
}

// One key object per key or certificate, not one per call: a process signs with one key, and a server sees
// the few certificates of its callers.
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 256;

function privateKeyOf(pem: Buffer): KeyObject {
  return cached(privateKeys, pem.toString("base64"), () => createPrivateKey(pem));
}

function publicKeyOf(der: Buffer): KeyObject {
  return cached(publicKeys, der.toString("base64"), () => new X509Certificate(der).publicKey);
}

function cached(keys: Map<string, KeyObject>, id: string, make: () => KeyObject): KeyObject {
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    key = make();
    keys.set(id, key);
  }
  return key;
}
