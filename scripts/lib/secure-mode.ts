// `SECURE=1 make up`: the mesh as a deployment runs it (docs/security.md). up.ts asks this module three things:
// whether the mode is on, the certificates (made by scripts/pki.sh on first use: the mesh CA, one per identity),
// and what each process is told (its own certificate's files). Without SECURE=1, the learner's mode: plaintext
// everywhere, and every local caller trusted, as Consul's dev agent trusts every local caller.
import { execFileSync } from "node:child_process";
import { join, relative } from "node:path";

/** The learner certificate `SECURE=1 make up` issues for its "Try:" lines: the README's consumer. */
export const TRY_LEARNER = "c-1001";

export interface SecureMode {
  /** Where the CA and the certificates are: FTGO_PKI_DIR, default .pki at the repository's root. */
  readonly pkiDir: string;
  /** Makes the CA and every identity's certificate that does not exist yet (scripts/pki.sh init), and the Try: learner's. */
  ensureCertificates(): void;
  /** The FTGO_TLS_* variables of the process running as `identity` (a service's name, "gateway", a courier's id, "admin"). */
  tlsEnv(identity: string): Record<string, string>;
  /** The three files of `identity`, for a client of the mesh's own (the readiness probes run as "admin"). */
  files(identity: string): { ca: string; cert: string; key: string };
  /** grpcurl's flags for `identity`'s certificate, relative to the repository's root as the Try: lines are run. */
  grpcurlFlags(identity: string): string;
}

/** SECURE=1 (or on/true/yes): the secure mode; unset, 0, off: the learner's. Anything else is a mistake. */
export function secureModeWanted(value: string | undefined): boolean {
  const normalized = (value ?? "").trim().toLowerCase();
  if (["", "0", "off", "false", "no"].includes(normalized)) return false;
  if (["1", "on", "true", "yes"].includes(normalized)) return true;
  throw new Error(`SECURE=${JSON.stringify(value)}: say SECURE=1 for the secure mode, or leave it unset`);
}

/** The secure mode of the repository at `root`, its certificates in FTGO_PKI_DIR or `<root>/.pki`. */
export function secureMode(root: string, env: NodeJS.ProcessEnv): SecureMode {
  const pkiDir = env.FTGO_PKI_DIR?.trim() || join(root, ".pki");
  const pki = (...args: string[]) =>
    execFileSync("bash", [join(root, "scripts", "pki.sh"), ...args], {
      env: { ...env, FTGO_PKI_DIR: pkiDir },
      stdio: ["ignore", "ignore", "inherit"],
    });
  const files = (identity: string) => ({
    ca: join(pkiDir, "ca.crt"),
    cert: join(pkiDir, `${identity}.crt`),
    key: join(pkiDir, `${identity}.key`),
  });
  return {
    pkiDir,
    ensureCertificates() {
      pki("init");
      pki("cert", TRY_LEARNER);
    },
    tlsEnv(identity) {
      const { ca, cert, key } = files(identity);
      return { FTGO_TLS_CA: ca, FTGO_TLS_CERT: cert, FTGO_TLS_KEY: key };
    },
    files,
    grpcurlFlags(identity) {
      const { ca, cert, key } = files(identity);
      const shown = (path: string) => (path.startsWith(root) ? relative(root, path) : path);
      return `-cacert ${shown(ca)} -cert ${shown(cert)} -key ${shown(key)}`;
    },
  };
}
