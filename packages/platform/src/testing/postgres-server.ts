// A real PostgreSQL server for the tests and `make up-cluster`: its own data directory and a port of its
// own, spawned as the nats-server is (spawn-server.ts), and never left running when this process ends.
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { endClient } from "../db/postgres.js";
import { freePort } from "./free-port.js";
import { type ServerProcess, spawnServer, stopProcess } from "./spawn-server.js";

export interface PostgresServerOptions {
  /** The data directory: kept, and reused when it holds a cluster. Default: a temp directory stop() removes. */
  readonly dataDir?: string;
  /** Default: a free port. */
  readonly port?: number;
  /**
   * Whether a commit reaches the disk before it is acknowledged. The tests kill services, never the
   * server, so they run without (faster); `make up-cluster` keeps it. Default false.
   */
  readonly durable?: boolean;
  /**
   * Run the server in its own process group, so that a terminal's Ctrl-C reaches it only through stop():
   * `make up` stops the services first, and they write to it while they drain. Default false.
   */
  readonly detached?: boolean;
  /** The database the URL names, created if missing. Default "ftgo". */
  readonly database?: string;
  /** How long initdb plus start-up may take. Default 60 s. */
  readonly startTimeoutMs?: number;
  /** Every line the server logs. */
  readonly onLog?: (line: string) => void;
}

export interface PostgresServerHandle {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`, for DATABASE_URL. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number;
  /** A fast shutdown (SIGINT: clients are disconnected), SIGKILL after 10 s; removes a temp data dir. */
  stop(): Promise<void>;
}

/** Thrown when PostgreSQL's server programs are missing; the message says how to install them. */
export class PostgresNotFoundError extends Error {
  override readonly name = "PostgresNotFoundError";
  constructor() {
    super(
      "PostgreSQL's server programs (initdb, postgres) were not found in /usr/lib/postgresql/*/bin nor at " +
        "POSTGRES_BIN_DIR. Install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu) or `make setup`.",
    );
  }
}

const STOP_GRACE_MS = 10_000;
/** How many of the server's last lines a start-up failure quotes. */
const QUOTED_LINES = 10;
/** What the server logs once it accepts connections. */
const READY = "ready to accept connections";
/**
 * Where throwaway clusters live: a directory of this user's, 0755, so that the `postgres` user root runs the
 * server as can pass through it (tmpdir itself is 1777) to a cluster's own 0700 directory. One per user: a
 * directory another user made first would not be ours to write in.
 */
const THROWAWAY_PARENT = join(tmpdir(), `ftgo-pg-${process.getuid?.() ?? "user"}`);
const TRAVERSABLE = 0o755;

/** The directory of initdb and postgres: POSTGRES_BIN_DIR, else Debian's newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.POSTGRES_BIN_DIR
    ? [env.POSTGRES_BIN_DIR]
    : safeReaddir("/usr/lib/postgresql")
        .filter((version) => /^\d+$/.test(version))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => `/usr/lib/postgresql/${version}/bin`);
  const dir = candidates.find(
    (candidate) => existsSync(join(candidate, "postgres")) && existsSync(join(candidate, "initdb")),
  );
  if (!dir) throw new PostgresNotFoundError();
  return dir;
}

/**
 * Starts PostgreSQL: initdb into the data directory when it holds no cluster yet, then the server on
 * 127.0.0.1 (and a Unix socket in the data directory), resolving once it accepts connections and the
 * database exists. PostgreSQL refuses to run as root: run by root (a CI container), the server and
 * initdb run as the `postgres` user, which owns the data directory. A throwaway data directory sits in a
 * traversable directory of ours for that user to reach; above a caller's, the directories are made to let it
 * through (see letThrough).
 *
 * ```ts
 * const pg = await startPostgresServer();
 * // DATABASE_URL=pg.url
 * await pg.stop();
 * ```
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServerHandle> {
  const binDir = findPostgresBinDir();
  const owner = serverOwner();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? throwawayDataDir();
  const database = options.database ?? "ftgo";
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let server: ServerProcess | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o700);
    if (owner) {
      chownSync(dataDir, owner.uid, owner.gid);
      if (!ownDir) letThrough(dirname(dataDir));
    }
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      await promisify(execFile)(
        join(binDir, "initdb"),
        ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
        { ...owner, timeout: timeoutMs },
      );
    }
    const port = options.port ?? (await freePort());
    const settings = [
      "listen_addresses=127.0.0.1",
      "max_connections=200", // every process of a scaled mesh holds one
      ...(options.durable ? [] : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]),
    ];
    const args = ["-D", dataDir, "-p", String(port), "-k", dataDir, ...settings.flatMap((s) => ["-c", s])];
    const ready = watchFor(READY, options.onLog);
    const started = spawnServer(join(binDir, "postgres"), args, {
      detached: options.detached,
      runAs: owner,
      onLog: ready.onLog,
    });
    server = started;
    const failure = await readyOrExit(started, ready.seen, timeoutMs);
    if (failure) {
      throw new Error(`postgres did not start: ${failure}\n  ${started.tail.slice(-QUOTED_LINES).join("\n  ")}`);
    }
    const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
    await createDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`, database);
    return {
      url,
      port,
      dataDir,
      pid: started.pid,
      async stop() {
        await stopServer(started);
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (server) await stopServer(server);
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** A fresh, empty data directory in THROWAWAY_PARENT, which it creates (or makes traversable again) first. */
function throwawayDataDir(): string {
  mkdirSync(THROWAWAY_PARENT, { recursive: true, mode: TRAVERSABLE });
  const parent = lstatSync(THROWAWAY_PARENT); // not a link: one could lead anywhere
  const uid = process.getuid?.();
  if (!parent.isDirectory() || (uid !== undefined && parent.uid !== uid)) {
    throw new Error(`${THROWAWAY_PARENT} is not a directory of this user's: remove it`);
  }
  chmodSync(THROWAWAY_PARENT, TRAVERSABLE); // the umask may have narrowed it
  return mkdtempSync(join(THROWAWAY_PARENT, "cluster-"));
}

/**
 * Lets other users through `dir` and every directory above it (search, not read: o+x), so that the `postgres`
 * user reaches a data directory a caller chose (`make up`'s DATA_DIR/postgres, in a checkout under root's 0700
 * home, say). Only a caller's directory needs it: a throwaway one sits in THROWAWAY_PARENT, whose way is open.
 */
function letThrough(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = statSync(current);
    if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}

/** Root runs the server as `postgres` (uid and gid from /etc/passwd); anyone else as themselves. */
function serverOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  if (!line)
    throw new Error("running as root, PostgreSQL needs a `postgres` user to run as (the postgresql package makes one)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** A log hook that passes each line on to `onLog` and watches for `marker`; `seen` resolves once it is logged. */
function watchFor(
  marker: string,
  onLog?: (line: string) => void,
): { onLog: (line: string) => void; seen: Promise<void> } {
  let mark = () => {};
  const seen = new Promise<void>((resolve) => {
    mark = resolve;
  });
  return {
    seen,
    onLog: (line) => {
      onLog?.(line);
      if (line.includes(marker)) mark();
    },
  };
}

/**
 * Waits for the server to log that it is ready (`ready`), to end first, or for `timeoutMs`; resolves with why it
 * did not start, or undefined once it is ready.
 */
function readyOrExit(server: ServerProcess, ready: Promise<void>, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`not ready within ${timeoutMs} ms`), timeoutMs);
  });
  const ended = server.exited.then((how) => (neverRan(server) ? how : `it exited (${how})`));
  return Promise.race([ready.then(() => undefined), ended, late]).finally(() => clearTimeout(timer));
}

/** Whether the process never ran (a spawn error, whose message is all there is to say): it never had a pid. */
function neverRan(server: ServerProcess): boolean {
  return server.pid === -1;
}

async function createDatabase(adminUrl: string, database: string): Promise<void> {
  const Client = createRequire(import.meta.url)("pg-native") as new () => SyncClient;
  const client = new Client();
  client.connectSync(adminUrl);
  try {
    const found = client.querySync("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.length === 0) client.querySync(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    endClient(client);
  }
}

interface SyncClient {
  connectSync(url: string): void;
  querySync(text: string, values?: string[]): unknown[];
  end(): void;
}

/** A fast shutdown: SIGINT closes active connections rather than waiting for them. */
function stopServer(server: ServerProcess): Promise<void> {
  return stopProcess(server, STOP_GRACE_MS, "SIGINT");
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
