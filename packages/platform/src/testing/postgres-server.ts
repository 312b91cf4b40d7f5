// A real PostgreSQL server for the tests and `make up-cluster`: its own data directory and a port of its
// own, started as the nats-server is (nats-server.ts), and never left running when this process ends.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
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
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { endClient } from "../db/postgres.js";
import { freePort } from "./free-port.js";

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
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

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
 * initdb run as the `postgres` user, which owns the data directory, and the directories above it let that
 * user through (o+x).
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
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "ftgo-pg-"));
  const database = options.database ?? "ftgo";
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let child: ChildProcess | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o700);
    if (owner) {
      chownSync(dataDir, owner.uid, owner.gid);
      letThrough(dirname(dataDir));
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
    child = spawnServer(join(binDir, "postgres"), args, owner, options.detached ?? false);
    const ready = await readyOrExit(child, timeoutMs, options.onLog);
    if (!ready.ok) throw new Error(`postgres did not start: ${ready.why}\n  ${ready.tail.join("\n  ")}`);
    const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
    await createDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`, database);
    const server = child;
    return {
      url,
      port,
      dataDir,
      pid: server.pid ?? -1,
      async stop() {
        await stopServer(server);
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (child) await stopServer(child);
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Lets other users through `dir` and every directory above it (search, not read: o+x), so that the `postgres`
 * user reaches a data directory inside a temp directory of root's (mkdtemp makes them 0700).
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

function spawnServer(
  bin: string,
  args: string[],
  owner: { uid: number; gid: number } | undefined,
  detached: boolean,
): ChildProcess {
  if (!exitHookInstalled) {
    process.on("exit", () => {
      for (const running of live) running.kill("SIGKILL");
    });
    exitHookInstalled = true;
  }
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], detached, ...owner });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Waits for "ready to accept connections" in the server's log, or for it to exit first. */
function readyOrExit(
  child: ChildProcess,
  timeoutMs: number,
  onLog: ((line: string) => void) | undefined,
): Promise<{ ok: true } | { ok: false; why: string; tail: string[] }> {
  const tail: string[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, why: `not ready within ${timeoutMs} ms`, tail }), timeoutMs);
    const settle = (result: { ok: true } | { ok: false; why: string; tail: string[] }) => {
      clearTimeout(timer);
      resolve(result);
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        onLog?.(line);
        if (tail.push(line) > 10) tail.shift();
        if (line.includes("ready to accept connections")) settle({ ok: true });
      });
    }
    child.once("exit", (code, signal) => settle({ ok: false, why: `it exited (${signal ?? `code ${code}`})`, tail }));
    child.once("error", (err) => settle({ ok: false, why: err.message, tail }));
  });
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

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT"); // fast shutdown: active connections are closed, not waited for
  const escalate = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(escalate);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
