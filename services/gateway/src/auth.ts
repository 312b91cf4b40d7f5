// Authentication at the edge: the gateway checks who is calling once, so the services behind it trust the
// consumer id it passes on instead of each checking tokens. Tokens are EdDSA (Ed25519) JWTs; verification
// pins that one algorithm, so a token signed with HS256 using the public key as its secret (the classic
// HS/RS confusion), or with `alg: none`, is refused before any key is consulted.
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import {
  type CryptoKey,
  errors,
  generateKeyPair,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from "jose";
import type { AuthConfig } from "./config.js";
import { GatewayError, invalidArgument, notFound } from "./errors.js";
import type { RouteContext } from "./router.js";

export const ALGORITHM = "EdDSA";

/**
 * Who may call a route: anyone; any signed-in caller (a consumer, or an admin reading for any consumer);
 * a consumer only (the route acts as the caller, and an admin is nobody's consumer); admins only.
 */
export type Access = "public" | "consumer" | "consumer-only" | "admin";

/** The verified caller of a request. */
export type Caller =
  | { readonly role: "anonymous" }
  | { readonly role: "consumer"; readonly subject: string }
  | { readonly role: "admin"; readonly subject: string };

export interface Authenticator {
  /** The key id tokens carry in their header (`kid`). */
  readonly keyId: string;
  /** Signs a token for a consumer (`sub` = consumer id) or an admin. */
  issue(caller: Exclude<Caller, { role: "anonymous" }>): Promise<string>;
  /** The caller an `Authorization` header proves, or a 401 GatewayError. No header: anonymous. */
  authenticate(authorization: string | undefined): Promise<Caller>;
}

/** Opens the signing key from config, or generates a key pair that lives as long as this process. */
export async function createAuthenticator(config: AuthConfig): Promise<Authenticator> {
  const { privateKey, publicKey } = await loadKeyPair(config.privateKeyPem);
  const keyId = `ftgo-${randomBytes(6).toString("hex")}`;
  const verifyOptions = {
    algorithms: [ALGORITHM],
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ["sub", "exp", "role"],
  };

  return {
    keyId,
    issue: (caller) =>
      new SignJWT({ role: caller.role })
        .setProtectedHeader({ alg: ALGORITHM, kid: keyId, typ: "JWT" })
        .setSubject(caller.subject)
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setIssuedAt()
        .setNotBefore("0s")
        .setExpirationTime(`${config.ttlSeconds}s`)
        .sign(privateKey),

    async authenticate(authorization) {
      if (authorization === undefined) return { role: "anonymous" };
      const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization)?.[1];
      if (!token) throw invalidToken("the Authorization header is not `Bearer <token>`");
      try {
        const { payload } = await jwtVerify(
          token,
          (header: JWSHeaderParameters) => {
            if (header.kid !== keyId) throw new errors.JWKSNoMatchingKey();
            return publicKey;
          },
          verifyOptions,
        );
        return callerOf(payload);
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

/** Refuses a caller that `access` does not admit: 401 to the anonymous, 403 to the signed-in. */
export function authorize(caller: Caller, access: Access): void {
  if (access === "public") return;
  if (caller.role === "anonymous") {
    throw new GatewayError(401, "UNAUTHENTICATED", "this route needs a bearer token", {
      "www-authenticate": 'Bearer realm="ftgo"',
    });
  }
  if (access === "admin" && caller.role !== "admin") {
    throw new GatewayError(403, "PERMISSION_DENIED", "this route is for administrators");
  }
  if (access === "consumer-only" && caller.role !== "consumer") {
    throw new GatewayError(403, "PERMISSION_DENIED", "only a consumer can do this: an administrator orders for nobody");
  }
}

/** A consumer reads only their own orders; an admin reads anyone's. */
export function mayReadOrdersOf(caller: Caller, consumerId: string): boolean {
  return caller.role === "admin" || (caller.role === "consumer" && caller.subject === consumerId);
}

const CONSUMER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * POST /api/v1/auth/token, the development sign-in: `{"consumerId":"c-1001"}` or `{"role":"admin"}` →
 * `{"accessToken"}`, no password asked. A real deployment signs in through an identity provider and turns
 * this off (NODE_ENV=production); the rest of the gateway only ever sees verified tokens either way.
 */
export async function signIn({ deps, request }: RouteContext): Promise<{ accessToken: string }> {
  if (!deps.config.auth.devSignIn) throw notFound("development sign-in is disabled");
  const body = request.body as { consumerId?: unknown; role?: unknown } | undefined;
  const keys = typeof body === "object" && body !== null ? Object.keys(body) : [];
  if (keys.length === 1 && body?.role === "admin") {
    return { accessToken: await deps.authenticator.issue({ role: "admin", subject: "admin" }) };
  }
  if (keys.length === 1 && typeof body?.consumerId === "string" && CONSUMER_ID.test(body.consumerId)) {
    return { accessToken: await deps.authenticator.issue({ role: "consumer", subject: body.consumerId }) };
  }
  throw invalidArgument('the body must be {"consumerId": "c-…"} or {"role": "admin"}');
}

async function loadKeyPair(
  pem: string,
): Promise<{ privateKey: CryptoKey | KeyObject; publicKey: CryptoKey | KeyObject }> {
  if (pem === "") return generateKeyPair(ALGORITHM, { crv: "Ed25519" });
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
