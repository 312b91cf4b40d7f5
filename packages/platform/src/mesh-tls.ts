// The secure mode's credentials (SECURE=1, docs/security.md): the mesh CA and this process's own certificate,
// made by scripts/pki.sh. With them every gRPC server asks its callers for a certificate of that CA, every
// mesh client presents this one, and the NATS connection is TLS with it (the broker maps it to a user).
// Without them (the learner's mode of `make up`) everything is plaintext and every local caller is trusted.
import { readFileSync } from "node:fs";
import type { EnvReader } from "./env.js";

/** The three files of a process's identity, read once at start-up. */
export interface MeshTls {
  /** The mesh CA's certificate (PEM): the only issuer a peer's certificate is accepted from. */
  readonly ca: Buffer;
  /** This process's certificate (PEM), subject /O=ftgo/OU=<role>/CN=<name>. */
  readonly cert: Buffer;
  /** Its private key (PEM). Never logged. */
  readonly key: Buffer;
  /** Where they were read from, for clients that take paths (nats.js, grpcurl lines). */
  readonly files: { readonly ca: string; readonly cert: string; readonly key: string };
}

/** The variables that name the three files: all three set (secure mode) or none (learner's mode). */
export const MESH_TLS_VARIABLES = ["FTGO_TLS_CA", "FTGO_TLS_CERT", "FTGO_TLS_KEY"] as const;

/**
 * Reads FTGO_TLS_CA, FTGO_TLS_CERT and FTGO_TLS_KEY. None set: undefined, the learner's mode. Some but not all
 * set, or a file that cannot be read: a problem reported with the rest of the configuration's.
 */
export function loadMeshTls(read: EnvReader): MeshTls | undefined {
  const [ca, cert, key] = MESH_TLS_VARIABLES.map((name) => read.string(name, ""));
  const given = [ca, cert, key].filter((path) => path !== "").length;
  if (given === 0) return undefined;
  if (given < 3) {
    read.problem(`${MESH_TLS_VARIABLES.join(", ")} go together: set all three (SECURE=1) or none`);
    return undefined;
  }
  try {
    return {
      ca: readFileSync(ca),
      cert: readFileSync(cert),
      key: readFileSync(key),
      files: { ca, cert, key },
    };
  } catch (error) {
    read.problem(`cannot read the mesh TLS files: ${(error as Error).message} (scripts/pki.sh init makes them)`);
    return undefined;
  }
}
