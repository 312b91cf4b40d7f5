// Authentication at the edge: the gateway checks who is calling once, so the services behind it trust the
// consumer id it passes on instead of each checking tokens. Tokens are EdDSA (Ed25519) JWTs; verification
// pins that one algorithm, so a token signed with HS256 using the public key as its secret (the classic
// HS/RS confusion), or with `alg: none`, is refused before any key is consulted.
//
// Key rotation by `kid`: the current key signs; the public halves of earlier keys (JWT_PREVIOUS_PUBLIC_KEYS_FILE)
// still verify the tokens they signed, until those expire. A key's id is its RFC 7638 thumbprint, so every gateway
// instance with the same key names it alike, and a token's `kid` picks the one key that may verify it.
import { createPrivateKey, createPublicKey } from "node:crypto";
import {
  type CryptoKey,
  calculateJwkThumbprint,
  errors,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from "jose";
import type { AuthConfig } from "./config.js";
import { GatewayError } from "./errors.js";
import { createVerifiedTokens } from "./verified-tokens.js";

/** Tokens remembered as verified at once; beyond that the oldest is forgotten (and verified again if seen). */
export const MAX_REMEMBERED_TOKENS = 10_000;

export const ALGORITHM = "EdDSA";

/** The verified caller of a request. */
export type Caller =
  | { readonly role: "anonymous" }
  | { readonly role: "consumer"; readonly subject: string }
  | { readonly role: "admin"; readonly subject: string };

/** A JSON Web Key Set (RFC 7517 §5): what GET /.well-known/jwks.json answers. */
export interface JwkSet {
  readonly keys: readonly JWK[];
}

export interface Authenticator {
  /** The key id the tokens it issues carry in their header (`kid`). */
  readonly keyId: string;
  /** Every public key a token may be verified with: the current key first, then the previous ones. */
  readonly jwks: JwkSet;
  /** Signs a token for a consumer (`sub` = consumer id) or an admin. */
  issue(caller: Exclude<Caller, { role: "anonymous" }>): Promise<string>;
  /** The caller an `Authorization` header proves, or a 401 GatewayError. No header: anonymous. */
  authenticate(authorization: string | undefined): Promise<Caller>;
}

/**
 * Opens the signing key and the previous public keys from config, or generates a key pair that lives as long as
 * this process. `now` (epoch ms) is the clock tokens are issued, checked and remembered by; tests move it by hand.
 */
export async function createAuthenticator(config: AuthConfig, now: () => number = Date.now): Promise<Authenticator> {
  const { privateKey, publicKey } = await loadKeyPair(config.privateKeyPem);
  const current = await verificationKey(publicKey);
  const previous = await Promise.all(config.previousPublicKeysPem.map((pem) => verificationKey(createPublicKey(pem))));
  const keyId = current.jwk.kid;
  const byKeyId = new Map([...previous, current].map((key) => [key.jwk.kid, key.publicKey]));
  // Verified tokens, so that a client's every request does not pay an Ed25519 verification; each entry
  // lives until its token expires. Tokens verified with these keys only: new keys are a new authenticator.
  const verified = createVerifiedTokens<Caller>(MAX_REMEMBERED_TOKENS, now);
  const verifyOptions = () => ({
    algorithms: [ALGORITHM],
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ["sub", "exp", "role"],
    currentDate: new Date(now()),
  });

  return {
    keyId,
    jwks: Object.freeze({ keys: [current, ...previous].map((key) => key.jwk) }),
    issue: (caller) => {
      const issuedAt = Math.floor(now() / 1000);
      return new SignJWT({ role: caller.role })
        .setProtectedHeader({ alg: ALGORITHM, kid: keyId, typ: "JWT" })
        .setSubject(caller.subject)
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        .setExpirationTime(issuedAt + config.ttlSeconds)
        .sign(privateKey);
    },

    async authenticate(authorization) {
      if (authorization === undefined) return { role: "anonymous" };
      // The scheme is case-insensitive (RFC 7235 §2.1): `bearer`, `BEARER` and `Bearer` are one scheme.
      const token = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(authorization)?.[1];
      if (!token) throw invalidToken("the Authorization header is not `Bearer <token>`");
      const known = verified.get(token);
      if (known) return known;
      try {
        const { payload } = await jwtVerify(
          token,
          (header: JWSHeaderParameters) => {
            const key = header.kid === undefined ? undefined : byKeyId.get(header.kid);
            if (!key) throw new errors.JWKSNoMatchingKey();
            return key;
          },
          verifyOptions(),
        );
        const caller = callerOf(payload);
        verified.remember(token, caller, (payload.exp ?? 0) * 1000);
        return caller;
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw invalidToken(error instanceof errors.JOSEError ? describeJoseError(error) : "the token is malformed");
      }
    },
  };
}

function callerOf(payload: JWTPayload): Caller {
  const subject = payload.sub ?? "";
  if (payload.role === "admin") return { role: "admin", subject };
  if (payload.role === "consumer" && subject !== "") return { role: "consumer", subject };
  throw invalidToken("the token names no known role");
}

/** What a client may learn of why its token was refused: the kind of problem, never the key. */
function describeJoseError(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not acceptable`;
  if (error instanceof errors.JOSEAlgNotAllowed) return `tokens must be signed with ${ALGORITHM}`;
  if (error instanceof errors.JWKSNoMatchingKey) return "the token was not signed by this gateway";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  return "the token is malformed";
}

/** 401 with the challenge RFC 6750 asks for, so a client knows to sign in again. */
export function invalidToken(description: string): GatewayError {
  return new GatewayError(401, "UNAUTHENTICATED", description, {
    "www-authenticate": `Bearer realm="ftgo", error="invalid_token", error_description="${description}"`,
  });
}

type PublicKey = CryptoKey | KeyObject;

/** A public key and its JWK as the key set publishes it: id, algorithm and use pinned. */
async function verificationKey(publicKey: PublicKey): Promise<{ publicKey: PublicKey; jwk: JWK & { kid: string } }> {
  const { kty, crv, x } = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty, crv, x });
  return { publicKey, jwk: { kty, crv, x, kid, alg: ALGORITHM, use: "sig" } };
}

async function loadKeyPair(pem: string): Promise<{ privateKey: CryptoKey | KeyObject; publicKey: PublicKey }> {
  if (pem === "") return generateKeyPair(ALGORITHM, { crv: "Ed25519" });
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
