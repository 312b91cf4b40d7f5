import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, type DatabaseLocation, openDatabase } from "@ftgo/platform";
import { startPostgresServer } from "@ftgo/platform/testing";
import { measurementOf, medianMeasurement } from "../lib/stats.js";
import type { BenchOptions, ContenderResult, Measurement, Suite } from "../lib/suite.js";

/*
 * What a store transaction costs on each engine: one handler's transaction as the stores run it (the writer
 * lock, an inbox row, an outbox row, a read, an update), one after another on one connection, as a service
 * process runs them. SQLite through the platform's engine (the baseline, `make up`'s), and PostgreSQL through
 * the platform's engine (pg-native, libpq's synchronous calls), on a server on this machine that writes every
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

export const database: Suite = {
  name: "database",
  async run(options) {
    const dir = mkdtempSync(join(tmpdir(), "ftgo-bench-db-"));
    const server = await startPostgresServer({
      durable: true,
      onLog: (line) => {
        if (/\b(WARNING|ERROR|FATAL|PANIC):/.test(line)) options.progress(`postgres: ${line}`);
      },
    });
    const rounds = new Map<string, Measurement[]>([
      ["sqlite", []],
      ["postgres-native", []],
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
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const labels: Record<string, string> = {
      sqlite: "SQLite, the platform's engine (better-sqlite3; transactions/s, latency per transaction)",
      "postgres-native": "PostgreSQL, the platform's engine (pg-native: libpq, synchronous)",
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
        "pg-native blocks the event loop during each round trip: the transaction runs with nothing of the process in between, as on SQLite.",
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
