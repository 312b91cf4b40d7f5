// The nats-server configuration of the secure mode: TLS on the client port with the broker's certificate from the
// mesh CA (scripts/pki.sh), every client required to present a certificate of that CA, each certificate mapped to
// its NATS user by its e-mail SAN (verify_and_map), and the users' permissions from broker-access.ts. JetStream
// stays in the default account, so the users share the streams; what separates them is their permissions.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BrokerPermissions, type BrokerUsersOptions, brokerUsers } from "./broker-access.js";

/** Options of {@link secureBrokerConfig}. */
export interface SecureBrokerConfigOptions extends BrokerUsersOptions {
  /** The directory scripts/pki.sh init wrote: ca.crt, and nats.crt/nats.key, the broker's own certificate. */
  readonly pkiDir: string;
}

/** The PKI directory lacks a file the broker needs. */
export class BrokerPkiError extends Error {
  override readonly name = "BrokerPkiError";
}

/**
 * The nats-server configuration file's text (JSON, which nats-server reads) for the secure mode: `tls` with
 * `verify_and_map` and `authorization.users`, one user per mesh identity with least-privilege permissions. The
 * listen address, port and JetStream store are left to the command line. Throws BrokerPkiError naming the missing
 * files when `pkiDir` does not hold ca.crt, nats.crt and nats.key.
 *
 * ```ts
 * writeFileSync(file, secureBrokerConfig({ pkiDir: ".pki" }));
 * // nats-server -c file -js -sd store -a 127.0.0.1 -p 4222; clients use tls://127.0.0.1:4222
 * ```
 */
export function secureBrokerConfig({ pkiDir, ...options }: SecureBrokerConfigOptions): string {
  const files = {
    ca_file: join(pkiDir, "ca.crt"),
    cert_file: join(pkiDir, "nats.crt"),
    key_file: join(pkiDir, "nats.key"),
  };
  const missing = Object.values(files).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new BrokerPkiError(
      `the secure broker needs ${missing.join(", ")}: run FTGO_PKI_DIR=${pkiDir} bash scripts/pki.sh init`,
    );
  }
  const config = {
    tls: { ...files, verify_and_map: true, timeout: 5 },
    authorization: {
      users: brokerUsers(options).map(({ user, permissions }) => ({ user, permissions: natsPermissions(permissions) })),
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** nats-server's form: an empty publish list denies everything rather than being left out (which allows all). */
function natsPermissions({ publish, subscribe, allowResponses }: BrokerPermissions): Record<string, unknown> {
  return {
    publish: publish.length > 0 ? { allow: publish } : { deny: [">"] },
    subscribe: subscribe.length > 0 ? { allow: subscribe } : { deny: [">"] },
    ...(allowResponses && { allow_responses: true }),
  };
}
