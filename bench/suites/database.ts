import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, type DatabaseLocation, openDatabase } from "@ftgo/platform";
import { startPostgresServer } from "@ftgo/platform/testing";
import { measurementOf, medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, ContenderResult, Measurement, Suite } from "../lib/suite.js";

/*
 * The driver behind the PostgreSQL engine, chosen by this measurement (docs/scaling.md): one handler's
 * transaction as the stores run it (the writer lock, an inbox row, an outbox row, a read, an update),
 * one after another on one connection, as a service process runs them. Three ways: SQLite through the
 * platform's engine (the baseline, `make up`'s), PostgreSQL through the platform's engine (pg-native,
 * libpq's synchronous calls), and the same statements with `pg`, node-postgres' asynchronous client,
 * awaited one by one. Both PostgreSQL contenders talk to one server on this machine that writes every
 * commit to disk before it answers (fsync on, as `make up-cluster` runs it); SQLite in WAL mode with
 * synchronous=NORMAL keeps a commit across a crash of the process, not of the machine, and syncs at
 * checkpoints only. "p50/p99 ms" are per transaction.
 */

const SCHEMA = [
  `CREATE TABLE inbox (message_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE TABLE box (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, payload BLOB NOT NULL);
   CREATE TABLE orders (order_id TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL);`,
];
const PAYLOAD = Buffer.alloc(200, 7);

interface AsyncClient {
  connect(): Promise<void>;
  query(query: string | { name: string; text: string; values: unknown[] }): Promise<unknown>;
  end(): Promise<void>;
}

export const database: Suite = {
  name: "database",
  async run(options) {
    const dir = mkdtempSync(join(tmpdir(), "ftgo-bench-db-"));
    const server = await startPostgresServer({ durable: true });
    const rounds = new Map<string, Measurement[]>([
      ["sqlite", []],
      ["postgres-native", []],
      ["postgres-pg", []],
    ]);
    try {
      for (let round = 1; round <= options.rounds; round++) {
        const schema = `bench_${round}`;
        const record = (name: string, measured: Measurement) => {
          rounds.get(name)?.push(measured);
          options.progress(
            `database round ${round}/${options.rounds} ${name}: ${measured.callsPerSecond.toFixed(0)} transactions/s, ` +
              `p50 ${(measured.p50Ms * 1000).toFixed(0)} µs, p99 ${(measured.p99Ms * 1000).toFixed(0)} µs`,
          );
        };
        record("sqlite", await engineRound({ engine: "sqlite", file: join(dir, `${schema}.db`) }, options));
        record(
          "postgres-native",
          await engineRound({ engine: "postgres", url: server.url, schema: `${schema}_native` }, options),
        );
        record("postgres-pg", await pgRound(server.url, `${schema}_pg`, options));
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const labels: Record<string, string> = {
      sqlite: "SQLite, the platform's engine (better-sqlite3; transactions/s, latency per transaction)",
      "postgres-native": "PostgreSQL, the platform's engine (pg-native: libpq, synchronous)",
      "postgres-pg": "PostgreSQL with pg (node-postgres, asynchronous), the same statements awaited",
    };
    const contenders: ContenderResult[] = [...rounds].map(([name, measured]) => ({
      name,
      label: labels[name] ?? name,
      rounds: measured,
      median: medianMeasurement(measured),
    }));
    return {
      suite: "database",
      description:
        "One store transaction (writer lock, inbox row, outbox row, a read, an update), one after another on one connection",
      baseline: "sqlite",
      contenders,
      goals: [],
      notes: [
        "PostgreSQL runs on this machine with fsync on (a disk sync per commit; SQLite's WAL syncs at checkpoints); every statement is a round trip over 127.0.0.1.",
        "pg-native blocks the event loop during each round trip; pg yields it, and pays for promises and parsing in JS.",
      ],
    };
  },
};

/** The transaction through the platform's engine (what every store runs), back to back for the window. */
async function engineRound(where: DatabaseLocation, options: BenchOptions): Promise<Measurement> {
  const db = openDatabase(where, SCHEMA);
  try {
    const handle = handler(db);
    let n = 0;
    const once = () => handle(`m-${n++}`);
    loopFor(once, options.warmupSeconds);
    return loopFor(once, options.seconds);
  } finally {
    db.close();
  }
}

function handler(db: Database): (messageId: string) => void {
  const inbox = db.prepare("INSERT INTO inbox (message_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING");
  const append = db.prepare("INSERT INTO box (order_id, payload) VALUES (?, ?)");
  const read = db.prepare("SELECT state, version FROM orders WHERE order_id = ?");
  const upsert = db.prepare(
    `INSERT INTO orders (order_id, state, version) VALUES (?, 'APPROVED', 1)
     ON CONFLICT (order_id) DO UPDATE SET version = orders.version + 1`,
  );
  return db.transaction((messageId: string) => {
    const orderId = `o-${messageId.length % 100}`;
    inbox.run(messageId, Date.now());
    append.run(orderId, PAYLOAD);
    read.get(orderId);
    upsert.run(orderId);
  }).immediate;
}

/** The same statements with pg, each awaited, under the same advisory writer lock. */
async function pgRound(url: string, schema: string, options: BenchOptions): Promise<Measurement> {
  openDatabase({ engine: "postgres", url, schema }, SCHEMA).close(); // the same tables, made the same way
  const { Client } = createRequire(import.meta.url)("pg") as { Client: new (config: object) => AsyncClient };
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    let n = 0;
    const once = async () => {
      const messageId = `m-${n++}`;
      const orderId = `o-${messageId.length % 100}`;
      await client.query("BEGIN");
      await client.query({ name: "lock", text: "SELECT pg_advisory_xact_lock($1)", values: [42] });
      await client.query({
        name: "inbox",
        text: "INSERT INTO inbox (message_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        values: [messageId, Date.now()],
      });
      await client.query({
        name: "append",
        text: "INSERT INTO box (order_id, payload) VALUES ($1, $2)",
        values: [orderId, PAYLOAD],
      });
      await client.query({
        name: "read",
        text: "SELECT state, version FROM orders WHERE order_id = $1",
        values: [orderId],
      });
      await client.query({
        name: "upsert",
        text: `INSERT INTO orders (order_id, state, version) VALUES ($1, 'APPROVED', 1)
               ON CONFLICT (order_id) DO UPDATE SET version = orders.version + 1`,
        values: [orderId],
      });
      await client.query("COMMIT");
    };
    await asyncLoopFor(once, options.warmupSeconds);
    return asyncLoopFor(once, options.seconds);
  } finally {
    await client.end();
  }
}

/** Runs a synchronous `call` back to back for `seconds`: no timer can fire in between, so the clock decides. */
function loopFor(call: () => void, seconds: number): Measurement {
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    call();
    const done = process.hrtime.bigint();
    latenciesMs.push(Number(done - now) / 1e6);
    now = done;
  }
  return measurementOf(latenciesMs, Number(now - start) / 1e9);
}

async function asyncLoopFor(call: () => Promise<void>, seconds: number): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    await call();
    const done = process.hrtime.bigint();
    latenciesMs.push(Number(done - now) / 1e6);
    now = done;
  }
  return measurementOf(latenciesMs, Number(now - start) / 1e9);
}
