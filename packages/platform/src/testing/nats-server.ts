import { constants, existsSync } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { connect as natsConnect } from "@nats-io/transport-node";
import { secureBrokerConfig } from "../messaging/broker-config.js";
import { type ServerProcess, spawnServer, stopProcess } from "./spawn-server.js";
import { waitFor } from "./wait.js";

// Where nats-cluster.ts and the tests have always found them.
export { type ServerProcess, spawnServer, stopProcess } from "./spawn-server.js";

export interface NatsServerOptions {
  /** JetStream store directory, created if missing. Default: a fresh temp directory that stop() removes. */
  readonly storeDir?: string;
  /** Client port. 0 or absent lets the server pick a free one. */
  readonly port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /**
   * Run the server in its own process group, so that a terminal's Ctrl-C reaches it only through
   * stop(): `make up` uses this to keep NATS alive while the services drain into it. Default false.
   */
  readonly detached?: boolean;
  /** Receives every line the server logs. The last lines are also quoted if start-up fails. */
  readonly onLog?: (line: string) => void;
  /** Called when the server exits by itself or by kill(), rather than through stop() or restart(). */
  readonly onCrash?: (how: string) => void;
  /** How long start-up (port file, then a TCP connect) may take. Default 10 s. */
  readonly startTimeoutMs?: number;
  /**
   * The secure mode: the directory scripts/pki.sh init wrote. The server then speaks only TLS, with its
   * certificate nats.crt, accepts only clients with a certificate of the mesh CA, maps each to its NATS user
   * and enforces that user's permissions (secureBrokerConfig, messaging/broker-access.ts). The url becomes
   * `tls://host:port`. Absent (the learner's mode): plaintext, no users, everything allowed.
   */
  readonly pkiDir?: string;
  /** With pkiDir: the partitions per channel the services use (FTGO_PARTITIONS), one durable each. Default 4. */
  readonly partitions?: number;
}

export interface NatsServerHandle {
  /**
   * `nats://host:port` (`tls://host:port` with pkiDir), for `connect({ servers: url })`. Stays the same across
   * restart().
   */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The server's current process id (restart() changes it). */
  readonly pid: number;
  /** SIGTERM, wait for the process to exit (SIGKILL after 10 s), remove the temp dirs this handle made. */
  stop(): Promise<void>;
  /** Sends a signal and nothing else, for fault injection: SIGKILL (crash), SIGSTOP/SIGCONT (freeze). */
  kill(signal: NodeJS.Signals): void;
  /** Stops the server (if it still runs) and starts it again on the same port with the same store. */
  restart(): Promise<void>;
}

/** Thrown when there is no nats-server binary to run; the message says how to install one. */
export class NatsServerNotFoundError extends Error {
  override readonly name = "NatsServerNotFoundError";
  constructor(where: string) {
    super(
      `nats-server was not found ${where}.\n` +
        "Install it with `sudo apt-get install -y nats-server` (Debian/Ubuntu) or `make setup`, " +
        "or set NATS_SERVER_BIN to the binary.",
    );
  }
}

/** Debian installs nats-server in /usr/sbin, which is not on every user's PATH. */
const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin"];
const STOP_GRACE_MS = 10_000;

/** The nats-server binary: `NATS_SERVER_BIN` if set, else the first on PATH (or in an sbin directory). */
export async function findNatsServer(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.NATS_SERVER_BIN) {
    if (await isExecutable(env.NATS_SERVER_BIN)) return env.NATS_SERVER_BIN;
    throw new NatsServerNotFoundError(`at NATS_SERVER_BIN=${env.NATS_SERVER_BIN}`);
  }
  const dirs = [...(env.PATH ?? "").split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, "nats-server");
    if (await isExecutable(candidate)) return candidate;
  }
  throw new NatsServerNotFoundError(`on PATH nor in ${SBIN_DIRS.join(", ")}`);
}

/**
 * True when something listening at host:port accepts a TCP connection within `timeoutMs`. A connection to a local
 * port nobody listens on, when that port is in the ephemeral range (`make up`'s 50051…), can connect to itself:
 * the kernel picks the very port as its source, and the two ends meet (a "simultaneous open"). That is not a
 * listener, and the socket, held open, would take the port from the server about to bind it (EADDRINUSE): it is
 * closed at once and counts as nothing listening.
 */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(!connectedToItself(socket)));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

/** Whether `socket` is connected to itself (see canConnect). */
export function connectedToItself(socket: Socket): boolean {
  return socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress;
}

/**
 * Starts a real nats-server with JetStream, as tests and `make up` need it: on a free port (read from
 * the server's ports file) unless one is given, with a temp store unless one is given, and resolves
 * once the port accepts TCP connections. If this process exits without calling stop(), the server is
 * killed with it rather than left behind.
 *
 * ```ts
 * const nats = await startNatsServer();
 * const nc = await connect({ servers: nats.url });
 * // …
 * await nc.close();
 * await nats.stop();
 * ```
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = await findNatsServer();
  const host = options.host ?? "127.0.0.1";
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  // Before any temp dir exists: a PKI dir without the broker's files fails here, leaving nothing behind.
  const { pkiDir, partitions } = options;
  const secureConfig = pkiDir === undefined ? undefined : secureBrokerConfig({ pkiDir, partitions });
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), "ftgo-nats-store-")));
  await mkdir(storeDir, { recursive: true });
  // Written once the server listens, also with a fixed port: proof that it is this server that
  // answers, not another process holding the port (that server would exit, unable to bind).
  const portsDir = await mkdtemp(join(tmpdir(), "ftgo-nats-ports-"));
  const secure = secureConfig === undefined ? [] : ["-c", await writeSecureConfig(portsDir, secureConfig)];

  const launch = async (port: number): Promise<{ server: ServerProcess; port: number }> => {
    const listen = ["-a", host, "-p", port === 0 ? "-1" : String(port), "--ports_file_dir", portsDir];
    const server = spawnServer(bin, [...secure, ...listen, "-js", "-sd", storeDir], options);
    const failed = server.exited.then((how) => {
      const problems = server.tail.filter((line) => !line.includes("[INF]")); // skip the banner
      const quoted = (problems.length > 0 ? problems : server.tail.slice(-5)).join("\n  ");
      throw new Error(`nats-server exited during start-up (${how}):\n  ${quoted}`);
    });
    failed.catch(() => {}); // raced below; once the server is up, a later exit is stop()'s business
    try {
      const bound = await Promise.race([readPortsFile(portsDir, server, timeoutMs), failed]);
      await Promise.race([
        waitFor(() => (pkiDir === undefined ? canConnect(host, bound) : canSignIn(host, bound, pkiDir)), {
          timeoutMs,
          message: `nats-server to accept connections on ${bound}`,
        }),
        failed,
      ]);
      server.expectExit = false;
      return { server, port: bound };
    } catch (err) {
      await stopProcess(server, 1_000);
      throw err;
    }
  };

  const removeDirs = async () => {
    await rm(portsDir, { recursive: true, force: true });
    if (ownStore) await rm(storeDir, { recursive: true, force: true });
  };
  let { server, port } = await launch(options.port ?? 0).catch(async (err: unknown) => {
    await removeDirs();
    throw err;
  });
  let stopped = false;
  return {
    url: `${options.pkiDir === undefined ? "nats" : "tls"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    storeDir,
    get pid() {
      return server.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(server, STOP_GRACE_MS);
      await removeDirs();
    },
    kill(signal) {
      server.child.kill(signal);
    },
    async restart() {
      if (stopped) throw new Error("restart() after stop(): start a new server instead");
      await stopProcess(server, STOP_GRACE_MS);
      ({ server } = await launch(port));
    },
  };
}

/**
 * True when a NATS client presenting the operator's certificate (admin, from `pkiDir`) connects over TLS: the secure
 * server is up, speaks TLS and maps certificates to users. A bare TCP probe would only make it log a failed handshake.
 */
async function canSignIn(host: string, port: number, pkiDir: string): Promise<boolean> {
  if (!existsSync(join(pkiDir, "admin.crt"))) return canConnect(host, port); // a PKI without the operator's
  const tls = {
    caFile: join(pkiDir, "ca.crt"),
    certFile: join(pkiDir, "admin.crt"),
    keyFile: join(pkiDir, "admin.key"),
  };
  const servers = `tls://${host.includes(":") ? `[${host}]` : host}:${port}`;
  try {
    const nc = await natsConnect({ servers, tls, reconnect: false, timeout: 1_000, name: "nats-server-readiness" });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** Writes the secure mode's configuration beside the ports file (removed with it); returns its path. */
async function writeSecureConfig(dir: string, config: string): Promise<string> {
  const file = join(dir, "nats-server.conf");
  await writeFile(file, config, { mode: 0o600 });
  return file;
}

/** Once listening, the server writes `{"nats": ["nats://host:port"]}` to `<dir>/nats-server_<pid>.ports`. */
export async function readPortsFile(dir: string, server: ServerProcess, timeoutMs: number): Promise<number> {
  const file = join(dir, `nats-server_${server.pid}.ports`);
  const url = await waitFor(
    async () => (JSON.parse(await readFile(file, "utf8")) as { nats?: string[] }).nats?.[0], // may be half-written: retried
    { timeoutMs, message: `nats-server to write ${file}` },
  );
  return Number(new URL(url).port);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
